//! The second flash (issue 19) against the simulator: reading what a board holds before
//! writing, deciding the erase from it, and clearing a filesystem that moved.

mod common;

use common::stub;
use webflash::firmware::erase::{decide, BoardFlash, Erase, NewFirmware, Reason};
use webflash::loader::{Baud, FlashJob, Loader, Region};
use webflash::protocol::chip::Chip;
use webflash::protocol::partition::{build, micropython_table, Partition, TYPE_DATA};
use webflash::sim::micropython::micropython_image;
use webflash::sim::{block_on, Device, DeviceConfig, SimPort};
use webflash::usb::ResetWiring;

const UART: Option<ResetWiring> = Some(ResetWiring::UartBridge);

fn board_with(parts: &[(usize, Vec<u8>)]) -> Loader<SimPort> {
    let mut flash = vec![0xFF; 4 << 20];
    for (at, bytes) in parts {
        flash[*at..*at + bytes.len()].copy_from_slice(bytes);
    }
    let mut dev = Device::new(DeviceConfig::new(Chip::Esp32));
    dev.load_flash(&flash);
    Loader::new(SimPort::new(dev))
}

async fn summary(l: &mut Loader<SimPort>) -> BoardFlash {
    l.prepare(UART, Some(&stub(Chip::Esp32))).await.unwrap();
    let held = l.read_summary().await.unwrap();
    BoardFlash::from_reads(&held.table, held.app.as_deref())
}

#[test]
fn a_micropython_board_is_recognised_before_anything_is_written() {
    block_on(async {
        let parts = micropython_image(Chip::Esp32.spec());
        let mut l = board_with(&parts);
        let held = summary(&mut l).await;
        assert!(held.runs_micropython());
        assert_eq!(held.app.as_ref().unwrap().version, "v1.24.1");
        let new = NewFirmware::from_bytes(
            &parts
                .iter()
                .map(|(at, b)| (*at as u32, &b[..]))
                .collect::<Vec<_>>(),
        );
        let d = decide(Some(&held), &new, 4 << 20);
        assert_eq!(d.erase, Erase::KeepFiles);
        // A blank board: nothing to keep.
        let mut blank = board_with(&[]);
        let held = summary(&mut blank).await;
        assert_eq!(
            decide(Some(&held), &new, 4 << 20).reason,
            Reason::NoFirmware
        );
    });
}

#[test]
fn a_long_table_is_read_to_its_end() {
    block_on(async {
        // 20 rows: more than the first 512 bytes the summary reads at once.
        let mut rows = micropython_table(0x10_0000, None);
        for i in 0..17u32 {
            rows.push(Partition {
                ptype: TYPE_DATA,
                subtype: 0x82,
                offset: 0x11_0000 + i * 0x1000,
                size: 0x1000,
                label: format!("data{i}"),
                flags: 0,
            });
        }
        let mut l = board_with(&[(0x8000, build(&rows, true))]);
        let held = summary(&mut l).await;
        assert_eq!(held.table.unwrap().entries, rows);
    });
}

#[test]
fn a_job_clears_the_region_it_is_given_and_nothing_else() {
    block_on(async {
        let mut parts = micropython_image(Chip::Esp32.spec());
        // Old files where the new filesystem will be, and elsewhere.
        parts.push((0x26_0000, vec![0x42; 0x3000]));
        parts.push((0x20_0000, vec![0x24; 0x1000]));
        let mut l = board_with(&parts);
        let s = stub(Chip::Esp32);
        l.prepare(UART, Some(&s)).await.unwrap();
        let app = &parts[2];
        let regions = [Region {
            offset: app.0 as u32,
            data: &app.1,
        }];
        let job = FlashJob {
            baud: Baud::Auto { max: 921_600 },
            erase_all: false,
            reset_after: false,
            clear: Some((0x26_0000, 0x1A_0000)),
        };
        let out = l
            .flash(&regions, job, UART, Some(&s), 4 << 20)
            .await
            .unwrap();
        assert!(out.report.verified);
        let flash = l.port().device().flash();
        assert!(flash[0x26_0000..].iter().all(|&b| b == 0xFF), "cleared");
        assert!(
            flash[0x20_0000..0x20_1000].iter().all(|&b| b == 0x24),
            "kept"
        );
    });
}
