//! The guide's "first script": blink the board's LED, saved as `main.py` so it runs at every
//! start. The LED sits on a different pin on each board, so the example is chosen from what
//! MicroPython reports (its MCU name) and says which pin it uses and how to change it.

use crate::i18n::t;

/// An editable example and a line about its LED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstScript {
    pub code: String,
    pub note: &'static str,
}

fn blink(setup: &str, on: &str, off: &str) -> String {
    format!(
        "# Blink the board's LED five times. Saved as main.py, it runs at every start.\n\
         import time\n\
         {setup}\n\
         print(\"Blinking the LED\")\n\
         for i in range(5):\n    {on}\n    time.sleep(0.1)\n    {off}\n    time.sleep(0.1)\n\
         print(\"Done blinking\")\n"
    )
}

/// The example for a board whose MicroPython reports MCU `mcu` (`RP2040`, `ESP32C3`, …).
pub fn for_mcu(mcu: &str) -> FirstScript {
    let m = mcu.to_ascii_uppercase();
    let pin = |n: &str| format!("from machine import Pin\nled = Pin({n}, Pin.OUT)");
    if m.starts_with("RP2") {
        FirstScript {
            code: blink(&pin("\"LED\""), "led.on()", "led.off()"),
            note: t("Pin(\"LED\") is the on-board LED on a Pico (GP25) and a Pico W (on its Wi-Fi chip); on other RP2040/RP2350 boards, use the pin number printed next to the LED."),
        }
    } else if m.starts_with("STM32") {
        FirstScript {
            code: blink("import pyb\nled = pyb.LED(1)", "led.on()", "led.off()"),
            note: t(
                "A pyboard has four LEDs: pyb.LED(1) to pyb.LED(4) (red, green, yellow, blue).",
            ),
        }
    } else if m == "ESP32C3" {
        FirstScript {
            code: blink(&pin("8"), "led.off()", "led.on()"),
            note: t("Most ESP32-C3 SuperMini boards have their LED on GPIO8, lit when the pin is low (so off() lights it). DevKits differ: check the pin printed on your board."),
        }
    } else if m == "ESP8266" {
        FirstScript {
            code: blink(&pin("2"), "led.off()", "led.on()"),
            note: t("ESP8266 boards (NodeMCU, D1 mini) have their LED on GPIO2, lit when the pin is low."),
        }
    } else if m.starts_with("ESP32") {
        FirstScript {
            code: blink(&pin("2"), "led.on()", "led.off()"),
            note: t("Many ESP32 DevKits have an LED on GPIO2; S2 mini boards use GPIO15; S3 DevKits have a colour LED on GPIO48 (needs the neopixel module). Change the number to your board's LED pin."),
        }
    } else {
        FirstScript {
            code: blink(&pin("\"LED\""), "led.on()", "led.off()"),
            note: t("Pin(\"LED\") works on boards that name their LED; otherwise use the pin number of your board's LED."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_gets_its_led() {
        assert!(for_mcu("RP2040").code.contains("Pin(\"LED\", Pin.OUT)"));
        assert!(for_mcu("RP2350").note.contains("Pico"));
        assert!(for_mcu("ESP32C3").code.contains("Pin(8, Pin.OUT)"));
        assert!(for_mcu("ESP32").code.contains("Pin(2, Pin.OUT)"));
        assert!(for_mcu("STM32F405RG").code.contains("pyb.LED(1)"));
        let code = for_mcu("RP2040").code;
        assert!(code.starts_with("# Blink") && code.contains("for i in range(5):\n    led.on()\n"));
    }
}
