//! A QR code drawn with half blocks, two module rows per text row.

use qrcode::{EcLevel, QrCode};

/// Light modules around the code; scanners need some margin.
const QUIET_ZONE: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct QrImage {
    pub modules: usize,
    /// Row-major, `modules * modules`, true = dark.
    pub dark: Vec<bool>,
}

impl QrImage {
    pub fn encode(text: &str) -> Option<QrImage> {
        // Low error correction keeps long DigiLocker URLs small enough for a
        // terminal; a screen does not get scuffed like paper.
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
        Some(QrImage {
            modules: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|color| color == qrcode::Color::Dark)
                .collect(),
        })
    }

    fn is_dark(&self, x: isize, y: isize) -> bool {
        let inside = |v: isize| v >= 0 && (v as usize) < self.modules;
        inside(x) && inside(y) && self.dark[y as usize * self.modules + x as usize]
    }

    /// Cells needed: one column per module, two module rows per text row.
    pub fn size_on_screen(&self) -> (u16, u16) {
        let side = self.modules + 2 * QUIET_ZONE;
        (side as u16, side.div_ceil(2) as u16)
    }

    /// Half blocks: each character carries two module rows.
    pub fn lines(&self) -> Vec<String> {
        let side = (self.modules + 2 * QUIET_ZONE) as isize;
        let quiet = QUIET_ZONE as isize;
        (0..side)
            .step_by(2)
            .map(|top| {
                (0..side)
                    .map(|x| {
                        let upper = self.is_dark(x - quiet, top - quiet);
                        let lower = self.is_dark(x - quiet, top + 1 - quiet);
                        match (upper, lower) {
                            (true, true) => '█',
                            (true, false) => '▀',
                            (false, true) => '▄',
                            (false, false) => ' ',
                        }
                    })
                    .collect()
            })
            .collect()
    }
}
