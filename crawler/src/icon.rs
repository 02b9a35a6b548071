//! Seller icons (`resource.iconUrl`, PROTOCOL §8.1): never hot-linked — that would tell sellers
//! who reads the catalog and break the pages' CSP — but fetched once through the same safe
//! fetcher as probes (address policy, redirects re-checked, deadlines), capped at
//! [`MAX_ICON_BYTES`], and kept only when the bytes are a PNG, JPEG, WebP or GIF (by magic
//! bytes, never by the seller's `Content-Type`) whose header states at most
//! [`MAX_ICON_SIDE`]×[`MAX_ICON_SIDE`] pixels. SVG is refused: it is a document that can carry
//! scripts. Agora serves a kept icon from its own origin by its content hash.

use crate::fetch::{FetchConfig, FetchResult, Fetcher};
use crate::report::Finding;
use http::Method;
use tiny_keccak::{Hasher, Keccak};
use url::Url;

/// Largest icon kept, in bytes.
pub const MAX_ICON_BYTES: usize = 64 * 1024;
/// Largest width or height kept, in pixels.
pub const MAX_ICON_SIDE: usize = 512;

/// An icon that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icon {
    pub bytes: Vec<u8>,
    /// From the bytes: `image/png`, `image/jpeg`, `image/webp` or `image/gif`.
    pub content_type: &'static str,
    pub width: usize,
    pub height: usize,
    /// Keccak-256 of the bytes, hex: the icon's name on Agora's origin.
    pub hash: String,
}

/// The fetch limits of icons: the probe's, with the icon cap and an image `Accept`.
pub fn fetch_config(probe: &FetchConfig) -> FetchConfig {
    FetchConfig {
        max_body_bytes: MAX_ICON_BYTES,
        accept: "image/png, image/webp, image/jpeg, image/gif",
        ..probe.clone()
    }
}

/// Fetches `url` with `fetcher` (built with [`fetch_config`]) and checks what came back.
pub async fn fetch(fetcher: &Fetcher, url: &Url) -> Result<Icon, Finding> {
    let fetched = fetcher.fetch(url, &Method::GET).await;
    match fetched.result {
        FetchResult::Refused(finding) | FetchResult::Failed(finding) => Err(finding),
        FetchResult::Answered(answer) => {
            if answer.status != 200 {
                return Err(Finding::new("icon_unavailable", format!("The icon URL answered {}.", answer.status)));
            }
            if let Some(error) = answer.body_error {
                return Err(Finding::new(
                    "icon_too_large",
                    format!("The icon could not be read whole: {}", error.message),
                ));
            }
            check(answer.body)
        }
    }
}

/// Keeps `bytes` if they are an icon Agora serves.
pub fn check(bytes: Vec<u8>) -> Result<Icon, Finding> {
    if bytes.len() > MAX_ICON_BYTES {
        return Err(Finding::new(
            "icon_too_large",
            format!("The icon is {} bytes; Agora keeps up to {MAX_ICON_BYTES}.", bytes.len()),
        ));
    }
    let content_type = match imagesize::image_type(&bytes) {
        Ok(imagesize::ImageType::Png) => "image/png",
        Ok(imagesize::ImageType::Jpeg) => "image/jpeg",
        Ok(imagesize::ImageType::Webp) => "image/webp",
        Ok(imagesize::ImageType::Gif) => "image/gif",
        _ => {
            return Err(Finding::new(
                "icon_format_unsupported",
                "The icon is not a PNG, JPEG, WebP or GIF image (SVG is not accepted).",
            ));
        }
    };
    let size = imagesize::blob_size(&bytes)
        .map_err(|_| Finding::new("icon_unreadable", "The icon's image header cannot be read."))?;
    if size.width == 0 || size.height == 0 || size.width > MAX_ICON_SIDE || size.height > MAX_ICON_SIDE {
        return Err(Finding::new(
            "icon_too_large",
            format!(
                "The icon is {}×{} pixels; Agora keeps icons up to {MAX_ICON_SIDE}×{MAX_ICON_SIDE}.",
                size.width, size.height
            ),
        ));
    }
    let mut hasher = Keccak::v256();
    hasher.update(&bytes);
    let mut digest = [0u8; 32];
    hasher.finalize(&mut digest);
    let hash = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Icon { bytes, content_type, width: size.width, height: size.height, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG header of `width`×`height` (the signature and IHDR are all a size reader needs).
    pub fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn only_small_raster_images_are_kept() {
        let icon = check(png(64, 64)).expect("a 64×64 PNG");
        assert_eq!((icon.content_type, icon.width, icon.height, icon.hash.len()), ("image/png", 64, 64, 64));
        assert_eq!(check(png(64, 64)).expect("again").hash, icon.hash, "named by content");
        assert_eq!(check(png(1024, 16)).expect_err("too wide").code, "icon_too_large");
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
        assert_eq!(check(svg).expect_err("svg").code, "icon_format_unsupported");
        assert_eq!(check(png(64, 64)[..14].to_vec()).expect_err("truncated").code, "icon_unreadable");
        assert_eq!(check(vec![0; MAX_ICON_BYTES + 1]).expect_err("big").code, "icon_too_large");
        let gif = [b"GIF89a".as_slice(), &[16, 0, 16, 0, 0, 0, 0]].concat();
        assert_eq!(check(gif).expect("a GIF").content_type, "image/gif");
    }
}
