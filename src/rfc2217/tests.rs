//! Tests of the RFC 2217 codec against what pyserial's client sends.

use super::*;

fn feed(server: &mut Server, input: &[u8]) -> (Vec<Event>, Vec<u8>) {
    let (mut events, mut reply) = (Vec::new(), Vec::new());
    server.feed(input, &mut events, &mut reply);
    (events, reply)
}

fn sub(command: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, COM_PORT_OPTION, command];
    escape_into(value, &mut out);
    out.extend_from_slice(&[IAC, SE]);
    out
}

#[test]
fn answers_pyserial_opening_negotiation() {
    let mut s = Server::new(115_200);
    // pyserial opens with DO ECHO, WILL SGA, DO SGA, DO COM-PORT, WILL COM-PORT.
    let (events, reply) = feed(
        &mut s,
        &[
            IAC, DO, 0x01, IAC, WILL, 0x03, IAC, DO, 0x03, IAC, DO, 0x2C, IAC, WILL, 0x2C,
        ],
    );
    assert!(events.is_empty());
    assert_eq!(
        reply,
        [IAC, WONT, 0x01, IAC, DO, 0x03, IAC, WILL, 0x03, IAC, WILL, 0x2C, IAC, DO, 0x2C]
    );
    assert!(s.com_port_active());
    // Repeating a request that matches the state gets no answer (no negotiation loops).
    let (_, reply) = feed(&mut s, &[IAC, WILL, 0x2C, IAC, DO, 0x03]);
    assert!(reply.is_empty());
}

#[test]
fn greeting_offers_options_and_suppresses_echoes_of_them() {
    let mut s = Server::new(115_200);
    let greeting = s.greeting();
    assert_eq!(&greeting[..6], &[IAC, WILL, 0x00, IAC, DO, 0x00]);
    assert!(s.com_port_active());
    // The client's agreement to what we offered needs no further answer.
    let (_, reply) = feed(&mut s, &[IAC, DO, 0x00, IAC, WILL, 0x2C]);
    assert!(reply.is_empty());
    // Unknown options are refused.
    let (_, reply) = feed(&mut s, &[IAC, WILL, 0x18, IAC, DO, 0x18]);
    assert_eq!(reply, [IAC, DONT, 0x18, IAC, WONT, 0x18]);
}

#[test]
fn baud_rate_is_set_and_acknowledged_with_code_plus_100() {
    let mut s = Server::new(115_200);
    let (events, reply) = feed(&mut s, &sub(1, &460_800u32.to_be_bytes()));
    assert_eq!(events, [Event::SetBaud(460_800)]);
    assert_eq!(reply, sub(101, &460_800u32.to_be_bytes()));
    // A zero value is a query for the current rate.
    let (events, reply) = feed(&mut s, &sub(1, &[0, 0, 0, 0]));
    assert!(events.is_empty());
    assert_eq!(reply, sub(101, &460_800u32.to_be_bytes()));
}

#[test]
fn control_lines_are_events_and_echoed() {
    let mut s = Server::new(115_200);
    let mut input = sub(5, &[8]); // DTR on
    input.extend(sub(5, &[12])); // RTS off
    input.extend(sub(5, &[7])); // query DTR
    let (events, reply) = feed(&mut s, &input);
    assert_eq!(events, [Event::Dtr(true), Event::Rts(false)]);
    let mut expected = sub(105, &[8]);
    expected.extend(sub(105, &[12]));
    expected.extend(sub(105, &[8]));
    assert_eq!(reply, expected);
    let (events, reply) = feed(&mut s, &sub(5, &[1]));
    assert_eq!(events, [Event::FlowControl(1)]);
    assert_eq!(reply, sub(105, &[1]));
}

#[test]
fn serial_settings_and_purge_are_acknowledged() {
    let mut s = Server::new(9600);
    let mut input = sub(2, &[8]);
    input.extend(sub(3, &[1]));
    input.extend(sub(4, &[1]));
    input.extend(sub(12, &[1]));
    let (events, reply) = feed(&mut s, &input);
    assert_eq!(
        events,
        [
            Event::SetDataSize(8),
            Event::SetParity(1),
            Event::SetStopSize(1),
            Event::Purge {
                receive: true,
                transmit: false
            }
        ]
    );
    let mut expected = sub(102, &[8]);
    expected.extend(sub(103, &[1]));
    expected.extend(sub(104, &[1]));
    expected.extend(sub(112, &[1]));
    assert_eq!(reply, expected);
}

#[test]
fn doubled_iac_is_data_in_both_directions() {
    let mut s = Server::new(115_200);
    let (events, reply) = feed(&mut s, &[0xC0, IAC, IAC, 0x01, 0xC0]);
    assert_eq!(events, [Event::Data(vec![0xC0, 0xFF, 0x01, 0xC0])]);
    assert!(reply.is_empty());
    let mut out = Vec::new();
    escape_into(&[1, 0xFF, 2], &mut out);
    assert_eq!(out, [1, 0xFF, 0xFF, 2]);
    // A baud value containing 0xFF arrives doubled and is answered doubled.
    let baud = 0x0001_C2FF;
    let (events, reply) = feed(&mut s, &sub(1, &u32::to_be_bytes(baud)));
    assert_eq!(events, [Event::SetBaud(baud)]);
    assert_eq!(reply, sub(101, &u32::to_be_bytes(baud)));
    assert_eq!(reply.iter().filter(|&&b| b == IAC).count(), 4);
}

#[test]
fn commands_split_across_reads_and_mixed_with_data_keep_their_order() {
    let mut s = Server::new(115_200);
    let mut input = b"ab".to_vec();
    input.extend(sub(5, &[9])); // DTR off
    input.extend(b"c\xff\xff");
    let mut events = Vec::new();
    let mut reply = Vec::new();
    for chunk in input.chunks(1) {
        s.feed(chunk, &mut events, &mut reply);
    }
    assert_eq!(
        events,
        [
            Event::Data(b"ab".to_vec()),
            Event::Dtr(false),
            Event::Data(vec![b'c', 0xFF])
        ]
    );
    assert_eq!(reply, sub(105, &[9]));
}

#[test]
fn malformed_and_foreign_subnegotiations_are_ignored() {
    let mut s = Server::new(115_200);
    // Truncated baud value, another option's block, unknown command: no events, no acks.
    let mut input = sub(1, &[1, 2]);
    input.extend([IAC, SB, 0x18, 1, IAC, SE]);
    input.extend(sub(99, &[1]));
    // IAC + WILL inside a block ends it and is negotiated.
    input.extend([IAC, SB, COM_PORT_OPTION, 5, IAC, WILL, 0x2C]);
    input.extend(b"x");
    let (events, reply) = feed(&mut s, &input);
    assert_eq!(events, [Event::Data(b"x".to_vec())]);
    assert_eq!(reply, [IAC, DO, 0x2C]);
}

#[test]
fn modem_state_notification_and_signature() {
    assert_eq!(modem_state(0x30), sub(107, &[0x30]));
    let mut s = Server::new(115_200);
    let (_, reply) = feed(&mut s, &sub(0, &[]));
    assert_eq!(reply, sub(100, b"esp-sim"));
    let (_, reply) = feed(&mut s, &sub(7, &[]));
    assert_eq!(reply, sub(107, &[0]));
}
