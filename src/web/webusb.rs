//! [`WebUsbDevice`]: [`UsbDevice`] over the browser's WebUSB, for boards that
//! install over USB instead of a serial port (STM32 DFU). Opening one claims its DFU interface
//! and reads what the DFU client needs from the device itself: the memory layout (the DFU
//! alternate's interface name) and the transfer size (the DFU functional descriptor).

use std::time::Duration;

use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::time::{now, sleep};
use crate::boards::dfu::request::{transfer_size, GET_CONFIGURATION_DESCRIPTOR};
use crate::i18n::t;
use crate::usb_device::{Setup, UsbDevice, UsbError};

// WebUSB is reached through `js_sys` rather than a JS snippet: a snippet of this crate would be
// preloaded by the page before the first flash, and only boards that install over USB need it.

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &key.into(), value);
}

/// Calls `obj.name(...args)` and awaits the promise it returns.
async fn call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(obj, name).dyn_into()?;
    let args: Array = args.iter().collect();
    let promise = f.apply(obj, &args)?;
    JsFuture::from(js_sys::Promise::resolve(&promise)).await
}

/// The DOMException's name (`NotFoundError`, …) and message.
fn dom_error(e: &JsValue) -> (String, String) {
    (
        get(e, "name").as_string().unwrap_or_default(),
        get(e, "message").as_string().unwrap_or_default(),
    )
}

fn usb() -> Option<JsValue> {
    let nav = web_sys::window()?.navigator();
    let usb = get(&nav, "usb");
    (!usb.is_undefined() && !usb.is_null()).then_some(usb)
}

/// True when this browser has WebUSB (Chrome, Edge on a secure origin).
pub fn supported() -> bool {
    usb().is_some()
}

/// Why a DFU device could not be opened, in words a student (or their admin) can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The chooser was closed, or it was empty.
    NoneChosen,
    /// The browser may not open it (Linux without a udev rule, a managed Chromebook's policy).
    NotAllowed,
    /// Another program holds it (dfu-util, STM32CubeProgrammer, another tab), or on Windows a
    /// driver other than WinUSB does.
    Busy,
    /// It has no DFU interface, or does not say its memory layout.
    NotDfu(String),
    Other(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::NoneChosen => f.write_str(t("No board was chosen. If the list was empty, the board is not in DFU mode yet: connect BOOT0 to 3.3V (the pyboard's DFU jumper), press RESET, and try again. On Windows the board must use the WinUSB driver: install it once for \"STM32 BOOTLOADER\" with Zadig.")),
            OpenError::NotAllowed => f.write_str(t("The browser was not allowed to open the board. On Linux, add a udev rule giving your user access to USB device 0483:df11, then unplug and replug the board; on a school Chromebook, ask the administrator to allow WebUSB for this site.")),
            OpenError::Busy => f.write_str(t("Another program is using the board (dfu-util, STM32CubeProgrammer, or another browser tab). Close it, unplug and replug the board, and try again. On Windows, the board needs the WinUSB driver (install it for \"STM32 BOOTLOADER\" with Zadig).")),
            OpenError::NotDfu(what) => f.write_str(&crate::tf!("The chosen device is not a DFU bootloader this page can use ({why}). Choose the one named STM32 BOOTLOADER or \"DFU in FS Mode\".", why = what)),
            OpenError::Other(e) => f.write_str(&crate::tf!("The board could not be opened ({error}). Unplug and replug it, then try again.", error = e)),
        }
    }
}

/// What a failed step (`choose`, `open`, `claim`) means for the student.
fn classify(step: &str, e: &JsValue) -> OpenError {
    let (name, words) = dom_error(e);
    match (name.as_str(), step) {
        ("NotFoundError", "choose") => OpenError::NoneChosen,
        ("SecurityError", _) => OpenError::NotAllowed,
        ("NetworkError" | "InvalidStateError", _) => OpenError::Busy,
        _ if words.is_empty() => OpenError::Other(name),
        _ => OpenError::Other(words),
    }
}

fn usb_error(e: JsValue) -> UsbError {
    match dom_error(&e) {
        (name, _) if name == "NotFoundError" => UsbError::Disconnected,
        (name, words) => UsbError::Other(format!("{name}: {words}")),
    }
}

/// The transfer's status ("ok", "stall", "babble") as a result.
fn transfer_status(result: &JsValue) -> Result<(), UsbError> {
    match get(result, "status").as_string().as_deref() {
        Some("ok") => Ok(()),
        Some("stall") => Err(UsbError::Stall),
        other => Err(UsbError::Other(format!(
            "transfer {}",
            other.unwrap_or("failed")
        ))),
    }
}

/// WebUSB's `USBControlTransferParameters` for a setup packet.
fn parameters(setup: Setup) -> Object {
    let p = Object::new();
    let kind = ["standard", "class", "vendor", "vendor"][(setup.request_type as usize >> 5) & 3];
    let recipient = ["device", "interface", "endpoint", "other"]
        .get(setup.request_type as usize & 0x1F)
        .copied()
        .unwrap_or("other");
    set(&p, "requestType", &kind.into());
    set(&p, "recipient", &recipient.into());
    set(&p, "request", &setup.request.into());
    set(&p, "value", &setup.value.into());
    set(&p, "index", &setup.index.into());
    p
}

/// Which interface to claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A DFU interface (class 0xFE, subclass 1), alternate 0; its transfer size is read.
    Dfu,
    /// The RP2040/RP2350 BOOTSEL mode's PICOBOOT interface (class 0xFF, 0, 0), bulk 0x03/0x84.
    Picoboot,
}

/// A claimed interface (DFU or PICOBOOT) of a device the user chose.
pub struct WebUsbDevice {
    device: JsValue,
    pub interface: u16,
    /// The DfuSe memory layout string (the alternate setting's name).
    pub layout: String,
    /// The product name the device reports.
    pub name: String,
    pub product_id: u16,
    pub transfer_size: u16,
}

impl WebUsbDevice {
    /// Opens the chooser for devices `ids` (vendor, product) and claims the chosen one's
    /// `kind` of interface.
    pub async fn choose(ids: &[(u16, u16)], kind: Kind) -> Result<WebUsbDevice, OpenError> {
        let usb = usb().ok_or_else(|| OpenError::Other(t("this browser has no WebUSB").into()))?;
        let filters: Array = ids
            .iter()
            .map(|&(vendor, product)| {
                let f = Object::new();
                set(&f, "vendorId", &vendor.into());
                set(&f, "productId", &product.into());
                JsValue::from(f)
            })
            .collect();
        let options = Object::new();
        set(&options, "filters", &filters);
        let device = call(&usb, "requestDevice", &[options.into()])
            .await
            .map_err(|e| classify("choose", &e))?;
        Self::open(device, kind).await
    }

    /// Opens `device` (a WebUSB `USBDevice` the page already has, such as the demo boards')
    /// and claims its `kind` of interface.
    pub async fn open(device: JsValue, kind: Kind) -> Result<WebUsbDevice, OpenError> {
        call(&device, "open", &[])
            .await
            .map_err(|e| classify("open", &e))?;
        match Self::claim(&device, kind).await {
            Ok(dev) => Ok(dev),
            Err(e) => {
                let _ = call(&device, "close", &[]).await;
                Err(e)
            }
        }
    }

    async fn claim(device: &JsValue, kind: Kind) -> Result<WebUsbDevice, OpenError> {
        if get(device, "configuration").is_null() {
            call(device, "selectConfiguration", &[1.into()])
                .await
                .map_err(|e| classify("claim", &e))?;
        }
        let interfaces: Array = get(&get(device, "configuration"), "interfaces").into();
        let number = |v: &JsValue, key: &str| get(v, key).as_f64().unwrap_or(-1.0) as i32;
        let found = interfaces.iter().find_map(|iface| {
            let alternates: Array = get(&iface, "alternates").into();
            let class = match kind {
                Kind::Dfu => (0xFE, 0x01, None),
                Kind::Picoboot => (0xFF, 0x00, Some(0x00)),
            };
            let alt = alternates.iter().find(|a| {
                number(a, "interfaceClass") == class.0
                    && number(a, "interfaceSubclass") == class.1
                    && class.2.is_none_or(|p| number(a, "interfaceProtocol") == p)
                    && number(a, "alternateSetting") == 0
            })?;
            Some((number(&iface, "interfaceNumber"), alt, alternates.length()))
        });
        let Some((interface, alt, alternates)) = found else {
            return Err(OpenError::NotDfu(match kind {
                Kind::Dfu => t("it has no DFU interface").into(),
                Kind::Picoboot => t("it has no PICOBOOT interface").into(),
            }));
        };
        call(device, "claimInterface", &[interface.into()])
            .await
            .map_err(|e| classify("claim", &e))?;
        if alternates > 1 {
            call(
                device,
                "selectAlternateInterface",
                &[interface.into(), 0.into()],
            )
            .await
            .map_err(|e| classify("claim", &e))?;
        }
        let mut dev = WebUsbDevice {
            device: device.clone(),
            interface: interface as u16,
            layout: get(&alt, "interfaceName").as_string().unwrap_or_default(),
            name: get(device, "productName").as_string().unwrap_or_default(),
            product_id: get(device, "productId").as_f64().unwrap_or(0.0) as u16,
            transfer_size: 0,
        };
        if kind == Kind::Picoboot {
            return Ok(dev);
        }
        let (kind, request, value) = GET_CONFIGURATION_DESCRIPTOR;
        let setup = Setup {
            request_type: kind,
            request,
            value,
            index: 0,
        };
        let config = dev
            .control_in(setup, 255)
            .await
            .map_err(|e| OpenError::Other(e.to_string()))?;
        dev.transfer_size = transfer_size(&config)
            .ok_or_else(|| OpenError::NotDfu(t("it has no DFU functional descriptor").into()))?;
        Ok(dev)
    }

    /// Lets the device go (after leaving DFU it is gone anyway).
    pub async fn close(&self) {
        let _ = call(&self.device, "close", &[]).await;
    }
}

impl UsbDevice for WebUsbDevice {
    async fn control_out(&mut self, setup: Setup, data: &[u8]) -> Result<(), UsbError> {
        let data = Uint8Array::from(data);
        let result = call(
            &self.device,
            "controlTransferOut",
            &[parameters(setup).into(), data.into()],
        )
        .await
        .map_err(usb_error)?;
        transfer_status(&result)
    }

    async fn control_in(&mut self, setup: Setup, len: u16) -> Result<Vec<u8>, UsbError> {
        let result = call(
            &self.device,
            "controlTransferIn",
            &[parameters(setup).into(), len.into()],
        )
        .await
        .map_err(usb_error)?;
        transfer_status(&result)?;
        let view = get(&result, "data");
        let buffer = get(&view, "buffer");
        let offset = get(&view, "byteOffset").as_f64().unwrap_or(0.0) as u32;
        let length = get(&view, "byteLength").as_f64().unwrap_or(0.0) as u32;
        Ok(Uint8Array::new_with_byte_offset_and_length(&buffer, offset, length).to_vec())
    }

    async fn bulk_out(&mut self, endpoint: u8, data: &[u8]) -> Result<(), UsbError> {
        let data = Uint8Array::from(data);
        let result = call(&self.device, "transferOut", &[endpoint.into(), data.into()])
            .await
            .map_err(usb_error)?;
        transfer_status(&result)
    }

    async fn bulk_in(&mut self, endpoint: u8, len: usize) -> Result<Vec<u8>, UsbError> {
        let result = call(
            &self.device,
            "transferIn",
            &[endpoint.into(), (len as u32).into()],
        )
        .await
        .map_err(usb_error)?;
        transfer_status(&result)?;
        let view = get(&result, "data");
        if view.is_undefined() || view.is_null() {
            return Ok(Vec::new());
        }
        let buffer = get(&view, "buffer");
        let offset = get(&view, "byteOffset").as_f64().unwrap_or(0.0) as u32;
        let length = get(&view, "byteLength").as_f64().unwrap_or(0.0) as u32;
        Ok(Uint8Array::new_with_byte_offset_and_length(&buffer, offset, length).to_vec())
    }

    async fn clear_halt(&mut self, endpoint_in: bool, endpoint: u8) -> Result<(), UsbError> {
        let direction = if endpoint_in { "in" } else { "out" };
        call(
            &self.device,
            "clearHalt",
            &[direction.into(), endpoint.into()],
        )
        .await
        .map(|_| ())
        .map_err(usb_error)
    }

    async fn sleep(&mut self, duration: Duration) {
        sleep(duration).await;
    }

    fn now(&self) -> Duration {
        now()
    }
}
