//! Where firmware comes from and whether it may be written. Pure: the browser fetches the
//! bytes; this module only decides. A file is sniffed ([`sniff`]), placed ([`suggest_offset`]),
//! and checked with the others against the detected board into a [`FlashPlan`] whose refusals
//! ([`Refusal`]) tell a student what is wrong and what to do. Manifests follow ESP Web Tools.
//! Whether to erase first is decided by what the board holds ([`erase`]).

pub mod erase;
pub mod esp_backup;
pub mod handout;
pub mod history;
pub mod json;
pub mod manifest;
mod manifest_error;
pub mod plan;
pub mod refusal;
pub mod role;
pub mod sniff;
pub mod url;

pub use manifest::{
    verify_sha256, Manifest, ManifestError, ManifestPart, ResolvedPart, SerialType,
};
pub use plan::{FlashPlan, HeaderPatch, Part, PlanOptions, PlannedPart, Target};
pub use refusal::{ImageChip, Refusal};
pub use role::{suggest_offset, ImageRole};
pub use sniff::{sniff, FileKind};

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod plan_patch_tests;
#[cfg(test)]
mod plan_tests;
