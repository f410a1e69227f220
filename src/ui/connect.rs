//! Step 1: choose the serial port, see what it is, let go of it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::session;

/// Where the connection stands, as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Idle,
    Connecting,
    Connected { device: String },
}

/// A status line: what happened, and whether it is bad news.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Notice {
    text: String,
    is_error: bool,
}

/// The Connect / Disconnect card.
#[component]
pub fn ConnectPanel() -> impl IntoView {
    let link = RwSignal::new(Link::Idle);
    let notice = RwSignal::new(Notice::default());

    let on_connect = move |_| {
        link.set(Link::Connecting);
        notice.set(Notice {
            text: "Choose your board's port in the browser's list…".into(),
            is_error: false,
        });
        spawn_local(async move {
            let on_lost = move |err: crate::port::PortError| {
                link.set(Link::Idle);
                notice.set(Notice {
                    text: format!("Connection lost: {err}."),
                    is_error: true,
                });
            };
            match session::connect(on_lost).await {
                Ok(summary) => {
                    notice.set(Notice {
                        text: format!("Connected to {}.", summary.description),
                        is_error: false,
                    });
                    link.set(Link::Connected {
                        device: summary.description,
                    });
                }
                Err(err) => {
                    link.set(Link::Idle);
                    notice.set(Notice {
                        text: err.to_string(),
                        is_error: true,
                    });
                }
            }
        });
    };

    let on_disconnect = move |_| {
        spawn_local(async move {
            session::disconnect().await;
            link.set(Link::Idle);
            notice.set(Notice {
                text: "Disconnected. You can unplug the board.".into(),
                is_error: false,
            });
        });
    };

    view! {
        <section class="card connect" aria-labelledby="connect-title">
            <h2 id="connect-title">"1. Connect your board"</h2>
            <p class="hint">"Use a USB cable that carries data (some charge-only cables do not)."</p>
            <div class="row">
                {move || match link.get() {
                    Link::Connected { .. } => view! {
                        <button class="secondary" on:click=on_disconnect>"Disconnect"</button>
                    }.into_any(),
                    Link::Connecting => view! {
                        <button class="primary" disabled=true>"Connect"</button>
                    }.into_any(),
                    Link::Idle => view! {
                        <button class="primary" on:click=on_connect>"Connect"</button>
                    }.into_any(),
                }}
            </div>
            {move || match link.get() {
                Link::Connected { device } => view! {
                    <dl class="device" aria-label="Connected port">
                        <dt>"USB device"</dt><dd data-field="usb">{device}</dd>
                    </dl>
                }.into_any(),
                _ => ().into_any(),
            }}
            <p role="status" aria-live="polite"
               class=move || if notice.get().is_error { "notice error" } else { "notice" }>
                {move || notice.get().text}
            </p>
        </section>
    }
}
