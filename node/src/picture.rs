//! Profile pictures: an uploaded PNG or JPEG is decoded (with bounds on its size, its sides
//! and the memory its decoder may take), cropped to its centre square, resized to
//! [`PICTURE_SIDE`] pixels and re-encoded as a small JPEG ([`thumbnail`]). What leaves the
//! node is always that re-encoded image, never the upload: a picture syncs to every boat, so
//! it must stay a few kilobytes, and re-encoding drops whatever metadata (GPS position, camera)
//! the original carried.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{ImageFormat, ImageReader, Limits, RgbImage};

/// The largest upload accepted, in bytes (a phone photo fits).
pub const MAX_UPLOAD_BYTES: usize = 12 * 1024 * 1024;
/// The longest side an upload may have, in pixels.
pub const MAX_UPLOAD_SIDE: u32 = 10_000;
/// The most memory the decoder may allocate, in bytes.
pub const MAX_DECODE_ALLOC: u64 = 192 * 1024 * 1024;
/// The side of the square picture that is published, in pixels.
pub const PICTURE_SIDE: u32 = 128;
/// JPEG quality of the published picture (a 128 px photo is then 3–6 KB).
pub const JPEG_QUALITY: u8 = 80;
/// The MIME type of the published picture.
pub const PICTURE_MIME: &str = "image/jpeg";

/// Why an upload cannot become a profile picture.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// Not a PNG or a JPEG (by its declared type).
    #[error("a profile picture must be a PNG or a JPEG image, not `{0}`")]
    Unsupported(String),
    /// It does not decode as the type it claims (or is over the side or memory bounds).
    #[error("the image cannot be read: {0}")]
    Undecodable(String),
    /// The re-encoding failed (should not happen for an image that decoded).
    #[error("the picture cannot be encoded: {0}")]
    Encode(String),
}

/// The codec for a declared MIME type (parameters such as `; charset` are ignored).
///
/// # Errors
/// [`PictureError::Unsupported`] for anything but `image/png` and `image/jpeg`.
pub fn format_of(mime: &str) -> Result<ImageFormat, PictureError> {
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "image/png" => Ok(ImageFormat::Png),
        "image/jpeg" | "image/jpg" => Ok(ImageFormat::Jpeg),
        _ => Err(PictureError::Unsupported(essence)),
    }
}

/// Decodes `bytes` as `mime`, keeps the centre square, resizes it to [`PICTURE_SIDE`] and
/// encodes it as a JPEG (transparent pixels over white). CPU-bound: call it off the async
/// runtime.
///
/// # Errors
/// [`PictureError`]: unsupported type, undecodable or over a bound, encoding failure.
pub fn thumbnail(bytes: &[u8], mime: &str) -> Result<Vec<u8>, PictureError> {
    let format = format_of(mime)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_UPLOAD_SIDE);
    limits.max_image_height = Some(MAX_UPLOAD_SIDE);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| PictureError::Undecodable(e.to_string()))?;
    let side = image.width().min(image.height());
    if side == 0 {
        return Err(PictureError::Undecodable("the image is empty".into()));
    }
    let (x, y) = ((image.width() - side) / 2, (image.height() - side) / 2);
    let small = image.crop_imm(x, y, side, side).resize_exact(
        PICTURE_SIDE,
        PICTURE_SIDE,
        FilterType::Triangle,
    );
    let rgb = over_white(&small.to_rgba8());
    let mut out = Vec::new();
    rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))
        .map_err(|e| PictureError::Encode(e.to_string()))?;
    Ok(out)
}

/// Flattens an RGBA image onto a white background.
fn over_white(rgba: &image::RgbaImage) -> RgbImage {
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |c: u8| {
            let (c, a) = (u32::from(c), u32::from(a));
            // c·a + 255·(255 − a), over 255: stays within 0..=255.
            u8::try_from((c * a + 255 * (255 - a)) / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

/// A `w`×`h` PNG for tests: a red left half and a transparent right half.
#[cfg(test)]
pub(crate) fn sample_png(w: u32, h: u32) -> Vec<u8> {
    use image::{ImageEncoder, Rgba, RgbaImage};
    let img = RgbaImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgba([255, 0, 0, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .expect("png");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        sample_png(w, h)
    }

    #[test]
    fn a_png_becomes_a_small_square_jpeg() {
        let out = thumbnail(&png(300, 200), "image/png").expect("thumbnail");
        assert!(out.len() < 16 * 1024, "{} bytes", out.len());
        let back = image::load_from_memory_with_format(&out, ImageFormat::Jpeg).expect("jpeg");
        assert_eq!((back.width(), back.height()), (PICTURE_SIDE, PICTURE_SIDE));
        let rgb = back.to_rgb8();
        let left = rgb.get_pixel(4, 64).0;
        let right = rgb.get_pixel(PICTURE_SIDE - 4, 64).0;
        assert!(left[0] > 200 && left[1] < 60, "left is red: {left:?}");
        assert!(
            right.iter().all(|&c| c > 200),
            "transparent is white: {right:?}"
        );
    }

    #[test]
    fn a_jpeg_round_trips_and_the_type_is_checked() {
        let jpeg = thumbnail(&png(64, 64), "image/png").expect("thumbnail");
        assert!(thumbnail(&jpeg, "image/jpeg; q=1").is_ok());
        assert!(matches!(
            thumbnail(&jpeg, "image/gif"),
            Err(PictureError::Unsupported(t)) if t == "image/gif"
        ));
        assert!(matches!(
            thumbnail(&jpeg, "image/png"),
            Err(PictureError::Undecodable(_))
        ));
        assert!(matches!(
            thumbnail(b"not an image", "image/jpeg"),
            Err(PictureError::Undecodable(_))
        ));
    }

    #[test]
    fn an_image_over_the_side_bound_is_refused_before_decoding() {
        let wide = png(MAX_UPLOAD_SIDE + 1, 1);
        assert!(matches!(
            thumbnail(&wide, "image/png"),
            Err(PictureError::Undecodable(_))
        ));
    }
}
