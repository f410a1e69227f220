//! Turns the chosen firmware into the exact bytes and offsets to write for this board, or the
//! reasons it must not be written. A manifest's parts are downloaded here, for the detected
//! chip, and checked against their SHA-256 when the manifest gives one.

use super::firmware::Firmware;
use super::state::{AppState, BoardCard};
use crate::firmware::{
    manifest, suggest_offset, verify_sha256, FlashPlan, Part, PlanOptions, PlannedPart, Target,
};
use crate::web::fetch;

/// Checks `fw` against the board. `expert_override` lets chip and offset checks pass (never
/// size, overlap or damage checks).
pub async fn build(
    fw: &Firmware,
    card: &BoardCard,
    state: AppState,
    expert_override: bool,
) -> Result<Vec<PlannedPart>, Vec<String>> {
    let chip = card.info.chip;
    let target = Target {
        chip,
        revision: card.info.revision as u16,
        flash_size: card.info.flash_size.unwrap_or(4 << 20),
    };
    let parts = match fw {
        Firmware::Single { label, data, .. } => {
            let offset = suggest_offset(data, chip).unwrap_or(chip.spec().bootloader_offset);
            vec![Part {
                name: label.clone(),
                offset,
                data: data.to_vec(),
            }]
        }
        Firmware::Manifest { url, text } => {
            let m = manifest::parse(text).map_err(|e| vec![e.to_string()])?;
            let build = m
                .select_build(chip, None)
                .map_err(|e| vec![e.to_string()])?;
            let resolved = manifest::resolve_parts(build, url, &fetch::page_url());
            let count = resolved.len();
            let mut parts = Vec::with_capacity(count);
            for (i, r) in resolved.into_iter().enumerate() {
                state.say(crate::tf!(
                    "Downloading part {index} of {count} ({url})…",
                    index = i + 1,
                    count = count,
                    url = r.url
                ));
                let data = fetch::fetch_bytes(&r.url, |_, _| {})
                    .await
                    .map_err(|e| vec![e.to_string()])?;
                verify_sha256(&r.part, &data).map_err(|e| vec![e.to_string()])?;
                let name = r.part.path.clone();
                parts.push(Part {
                    name,
                    ..r.into_part(data)
                });
            }
            parts
        }
    };
    let options = PlanOptions {
        expert_override,
        ..PlanOptions::default()
    };
    match FlashPlan::build(target, parts, options) {
        Ok(plan) => {
            for r in &plan.overridden {
                state.warn(crate::tf!("Expert override: {reason}", reason = r));
            }
            Ok(plan.parts)
        }
        Err(refusals) => Err(refusals.iter().map(ToString::to_string).collect()),
    }
}
