//! What an authenticator app needs to enrol: the `otpauth://` URI (Google Authenticator's key URI format)
//! and the same URI as a QR code, as SVG for web pages and as PNG for everything else.

use base64::Engine as _;
use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

use crate::error::{ServiceError, ServiceResult};

/// `otpauth://totp/<issuer>:<account>?secret=...&issuer=...` with the defaults every app assumes spelled out.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let label = format!("{}:{}", encode(issuer), encode(account));
    format!(
        "otpauth://totp/{label}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        encode(issuer)
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn code(uri: &str) -> ServiceResult<QrCode> {
    QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M).map_err(ServiceError::internal)
}

/// The QR code as an SVG document.
pub fn qr_svg(uri: &str) -> ServiceResult<String> {
    Ok(code(uri)?.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

/// Pixels per QR module, and the quiet zone in modules.
const SCALE: usize = 6;
const QUIET: usize = 4;

/// The QR code as a grayscale PNG, base64-encoded.
pub fn qr_png_base64(uri: &str) -> ServiceResult<String> {
    let qr = code(uri)?;
    let width = qr.width();
    let colors = qr.to_colors();
    let side = (width + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (index % width + QUIET, index / width + QUIET);
            for dy in 0..SCALE {
                let row = (y * SCALE + dy) * side;
                pixels[row + x * SCALE..row + x * SCALE + SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let side = u32::try_from(side).map_err(ServiceError::internal)?;
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(ServiceError::internal)?;
        writer.write_image_data(&pixels).map_err(ServiceError::internal)?;
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_names_issuer_and_account_and_encodes_them() {
        let uri = otpauth_uri("Market place", "a+b@example.com", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri,
            "otpauth://totp/Market%20place:a%2Bb%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Market%20place\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn qr_codes_render_as_svg_and_png() {
        let uri = otpauth_uri("cognigate", "a@example.com", "JBSWY3DPEHPK3PXP");
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
        let png = base64::engine::general_purpose::STANDARD.decode(qr_png_base64(&uri).unwrap()).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
