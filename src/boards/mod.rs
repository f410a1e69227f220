//! Board families beside the ESP (whose loader is [`crate::loader`]): what a picked port leads
//! to ([`identify`]), UF2 files ([`uf2`]) and the Raspberry Pi RP2040/RP2350 ([`rp2`]), and the
//! first script per board ([`first_script`]), and STM32 boards in DFU mode: `.dfu` files, memory
//! layouts and DFU/DfuSe requests ([`dfu`]); the whole-flash backup file's container, shared with
//! the ESP's ([`backup_file`]). Pure: no I/O.

pub mod backup_file;
pub mod dfu;
pub mod first_script;
pub mod identify;
pub mod picoboot;
pub mod rp2;
pub mod rp2_backup;
pub mod uf2;
