//! The LoRa bridge's IO shell: radios, their framing, the simulated air, and the glue that
//! feeds the sans-IO [`proto::lora::Bridge`] from the node actor.
//!
//! ```text
//! radio task (one per --lora SPEC) ── Input::Frame (mpsc, INPUT_CAP) ──┐
//! ticker (every TICK) ─────────────── Input::Tick ──────────────────────┼─► Actor::on_lora
//!                                                                       │   Bridge::handle
//! radio task ◄── frames to send (mpsc, RADIO_CAP) ◄─ OutEvent::Transmit ┘   Deliver → sync
//! ```
//! - [`spec`]: `kiss:/dev/ttyUSB0`, `kiss:tcp:HOST:PORT`, `meshtastic:/dev/ttyACM0`,
//!   `meshtastic:tcp:HOST:4403`.
//! - [`kiss`]: KISS framing (FEND/FESC), RNode's radio commands.
//! - [`meshtastic`]: the Meshtastic stream API (`0x94 0xC3` + length + protobuf) with our
//!   frames as `PRIVATE_APP` payloads; [`protobuf`] encodes the few messages by hand (the
//!   `meshtastic` crate is GPL-3.0: docs/decisions.md).
//! - [`radio`]: serial and TCP transports, one task per radio, reconnecting.
//! - [`config`]: the `[lora]` config keys (region, preset/SF/BW, duty cycle, flotillas).
//! - [`marks`]: which events came or left by radio, and which boats are heard only by radio
//!   (for the UI).
//! - [`air`]: `flotilla lora-air`, a simulated medium of pseudo-terminal KISS modems.
//!
//! [`proto::lora::Bridge`]: flotilla_protocol::lora::Bridge

pub mod air;
pub mod config;
pub mod kiss;
pub mod marks;
pub mod meshtastic;
pub mod protobuf;
pub mod radio;
pub mod spec;

pub use config::{LoraConfig, RawLoraConfig};
pub use spec::Spec;

use std::time::Duration;

/// Frames and ticks waiting for the actor.
pub const INPUT_CAP: usize = 256;
/// Frames waiting for one radio's transport.
pub const RADIO_CAP: usize = 64;
/// How often the bridge is ticked.
pub const TICK: Duration = Duration::from_millis(50);

/// What the radios tell the actor.
#[derive(Debug)]
pub enum Input {
    /// A frame heard on radio `radio`.
    Frame {
        /// Index of the radio (the `--lora` order).
        radio: usize,
        /// The frame.
        frame: Vec<u8>,
    },
    /// Time to send what is due.
    Tick,
}
