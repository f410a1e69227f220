//! Pyboard and other STM32 boards in their DFU bootloader (issue 12): `.dfu` files
//! ([`file`]), the memory layout a DFU interface reports ([`layout`]) and the DFU/DfuSe
//! requests ([`request`]). Pure: the client that sends these over USB control transfers, and the
//! simulated STM32 bootloader, build on them.

pub mod file;
pub mod layout;
pub mod request;
