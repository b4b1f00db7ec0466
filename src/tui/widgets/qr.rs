//! A QR code drawn with half blocks, two module rows per text row.

use qrcode::{EcLevel, QrCode};

/// Light modules around the code: the standard's quiet zone of four, which
/// scanners need to find the code's edges.
const QUIET_ZONE: usize = 4;

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The half blocks read back as module rows: (dark upper, dark lower).
    fn modules_of(lines: &[String]) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in lines {
            let (upper, lower): (Vec<bool>, Vec<bool>) = line
                .chars()
                .map(|c| (matches!(c, '█' | '▀'), matches!(c, '█' | '▄')))
                .unzip();
            rows.push(upper);
            rows.push(lower);
        }
        rows
    }

    #[test]
    fn the_code_has_a_four_module_quiet_zone_and_every_module_in_place() {
        let qr = QrImage::encode("https://verification.cashfree.com/dgl?shortCode=Xy7Pq2Rs")
            .expect("encodes");
        let rows = modules_of(&qr.lines());
        let side = qr.modules + 8;
        assert_eq!(qr.size_on_screen(), (side as u16, side.div_ceil(2) as u16));
        for (y, row) in rows.iter().enumerate().take(side) {
            assert_eq!(row.len(), side);
            for (x, dark) in row.iter().enumerate() {
                let inside = (4..4 + qr.modules).contains(&x) && (4..4 + qr.modules).contains(&y);
                let expected = inside && qr.dark[(y - 4) * qr.modules + (x - 4)];
                assert_eq!(*dark, expected, "module ({x}, {y})");
            }
        }
    }
}
