//! The QR code of a one-time-code set-up, drawn on the server as SVG markup that the page
//! embeds inline (the pages' CSP allows no `data:` images; inline `<svg>` is markup).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::service::login_flow::TotpSetup;

/// What a set-up page shows: the QR code, the key to type by hand, the URL to copy.
pub struct TotpSetupView {
    /// `<svg>…</svg>`, made here from the URL alone (nothing the user typed).
    pub qr_svg: String,
    /// The base32 key in groups of four, as apps show and users type it.
    pub secret: String,
    /// The `otpauth://` URL.
    pub url: String,
}

impl TotpSetupView {
    pub fn new(setup: &TotpSetup) -> TotpSetupView {
        let grouped = setup
            .secret
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        TotpSetupView {
            qr_svg: qr_svg(&setup.url).unwrap_or_default(),
            secret: grouped,
            url: setup.url.clone(),
        }
    }
}

/// The QR code of `text` as an `<svg>` element (without the XML declaration), or `None`
/// when the text does not fit a QR code.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    let start = image.find("<svg")?;
    // An accessible name is given by the page around it; the image itself is decorative to
    // a screen reader, which reads the key below.
    Some(image[start..].replacen(
        "<svg ",
        "<svg class=\"qr\" aria-hidden=\"true\" focusable=\"false\" ",
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_is_markup_without_a_declaration() {
        let svg =
            qr_svg("otpauth://totp/idbroker:ana%40example.com?secret=GEZDGNBV&issuer=idbroker")
                .unwrap();
        assert!(svg.starts_with("<svg class=\"qr\""), "{svg}");
        assert!(svg.ends_with("</svg>"));
        assert!(!svg.contains("<?xml"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn the_key_is_shown_in_groups_of_four() {
        let view = TotpSetupView::new(&TotpSetup {
            secret: "GEZDGNBVGY3TQOJQ".into(),
            url: "otpauth://totp/x:y?secret=GEZDGNBVGY3TQOJQ".into(),
        });
        assert_eq!(view.secret, "GEZD GNBV GY3T QOJQ");
    }
}
