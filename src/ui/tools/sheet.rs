//! The printable one-page handout: the workshop's title, its link and the link's QR code, the
//! four steps, what to do when Connect fails, and the note for managed school Chromebooks. On
//! screen it is the preview; printed (`tools.css`, `@media print`) it is all that shows.

use leptos::prelude::*;

use crate::i18n::t;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The QR code of `text` as an SVG document (medium error correction: a handout may be
/// photocopied or creased), or `None` when the text is too long for a QR code.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

#[component]
pub fn Sheet(title: RwSignal<String>, link: Memo<String>) -> impl IntoView {
    let heading = move || {
        let title = title.get();
        if title.trim().is_empty() {
            t("MicroPython workshop").to_string()
        } else {
            title.trim().to_string()
        }
    };
    let qr = move || qr_svg(&link.get()).unwrap_or_default();
    view! {
        <article class="handout" aria-label=t("Printable handout")>
            <h1>{heading}</h1>
            <div class="handout-top">
                <div class="qr" role="img" aria-label=t("QR code of the handout link") inner_html=qr></div>
                <div>
                    <p>{t("Open this page in Google Chrome or Microsoft Edge (on a Chromebook: Chrome):")}</p>
                    <p class="handout-url">{link}</p>
                    <p>{t("Or scan the code with the Chromebook's camera app.")}</p>
                </div>
            </div>
            <h2>{t("Four steps")}</h2>
            <ol>
                <li><strong>{t("Connect:")}" "</strong>{t("plug the board in with a data USB cable, press Connect and pick its port.")}</li>
                <li><strong>{t("Firmware:")}" "</strong>{t("it is already chosen for you by this link.")}</li>
                <li><strong>{t("Flash:")}" "</strong>{t("press Flash and wait until it says the firmware is verified.")}</li>
                <li><strong>{t("Try it:")}" "</strong>{t("the page checks that MicroPython answers print('hello'); then type in the terminal.")}</li>
            </ol>
            <h2>{t("If Connect does not work")}</h2>
            <ul>
                <li>{t("No port in the list: try another cable (many only charge) and another USB socket.")}</li>
                <li>{t("The board does not answer: hold its BOOT button, tap RESET (EN), let go of BOOT, then press Try again.")}</li>
                <li>{t("A Raspberry Pi Pico: hold BOOTSEL while plugging it in.")}</li>
                <li>{t("Still stuck: ask an organiser and show them the message on the page.")}</li>
            </ul>
            <h2>{t("Managed school Chromebooks")}</h2>
            <p>{t("An administrator may have to allow this site in the Google Admin console. Policies SerialAskForUrls and WebUsbAskForUrls let the site ask for a board; SerialAllowUsbDevicesForUrls and WebUsbAllowDevicesForUrls grant the boards' USB ids with no prompt (ESP USB-serial: 10C4:EA60, 1A86:7523, 303A:1001; Raspberry Pi Pico: 2E8A:0005, bootloader 2E8A:0003; pyboard: F055:9800, bootloader 0483:DF11).")}</p>
        </article>
    }
}
