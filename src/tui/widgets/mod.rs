//! Drawing pieces several features share: frames and dialogs, form fields,
//! the QR code and a session's status text.

pub mod blocks;
pub mod form;
pub mod qr;
pub mod status;

pub use blocks::{button, centered, dialog_block, draw_dialog, pane_block, wrapped_height};
