//! Branding of the login page: accent colours checked for WCAG 2.x contrast, and
//! logo / favicon files checked before they are served.
//!
//! Pure rules only: no I/O, no async. The caller reads the policy and the files.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::{NsReader, XmlVersion};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------

/// An sRGB colour as written in the policy: `#rrggbb` or `#rgb` (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color {
    /// Red channel, 0–255.
    pub r: u8,
    /// Green channel, 0–255.
    pub g: u8,
    /// Blue channel, 0–255.
    pub b: u8,
}

impl Color {
    /// The colour `0xrrggbb`.
    pub const fn rgb(hex: u32) -> Color {
        Color {
            r: (hex >> 16) as u8,
            g: (hex >> 8) as u8,
            b: hex as u8,
        }
    }

    /// Parses `#rrggbb` or `#rgb` (hex digits in either case, nothing around them).
    /// The error is a sentence for the policy's error message.
    pub fn parse(text: &str) -> Result<Color, String> {
        let bad = || format!("{text:?} is not a colour; write it as #rrggbb, e.g. #2557d6");
        let digits = text.strip_prefix('#').ok_or_else(bad)?;
        // `u8::from_str_radix` would accept a leading '+', so check the digits first.
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        match *digits.as_bytes() {
            [r, g, b] => Ok(Color {
                r: hex_digit(r) * 17,
                g: hex_digit(g) * 17,
                b: hex_digit(b) * 17,
            }),
            [r1, r2, g1, g2, b1, b2] => Ok(Color {
                r: hex_digit(r1) * 16 + hex_digit(r2),
                g: hex_digit(g1) * 16 + hex_digit(g2),
                b: hex_digit(b1) * 16 + hex_digit(b2),
            }),
            _ => Err(bad()),
        }
    }

    /// The colour as lower-case `#rrggbb`.
    pub fn hex(&self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// WCAG 2.x relative luminance, 0.0 for black to 1.0 for white:
    /// L = 0.2126 R + 0.7152 G + 0.0722 B over the linearised sRGB channels
    /// (<https://www.w3.org/TR/WCAG21/#dfn-relative-luminance>).
    pub fn luminance(&self) -> f64 {
        // WCAG 2.1 writes the threshold as 0.03928, WCAG 2.2 as 0.04045 (the sRGB
        // standard's value); no 8-bit value lies between them (10/255 = 0.0392,
        // 11/255 = 0.0431), so both give the same result here.
        fn linear(channel: u8) -> f64 {
            let s = f64::from(channel) / 255.0;
            if s <= 0.04045 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            }
        }
        0.2126 * linear(self.r) + 0.7152 * linear(self.g) + 0.0722 * linear(self.b)
    }

    /// This colour with `fraction` (clamped to 0.0–1.0) of white mixed into each
    /// channel, rounded to the nearest integer: 0.0 keeps it, 1.0 gives white.
    pub fn mix_with_white(&self, fraction: f64) -> Color {
        let f = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        let mix = |c: u8| -> u8 {
            let v = f64::from(c) + (255.0 - f64::from(c)) * f;
            // v is within 0.0..=255.0, so the cast neither truncates nor wraps.
            v.round().clamp(0.0, 255.0) as u8
        };
        Color {
            r: mix(self.r),
            g: mix(self.g),
            b: mix(self.b),
        }
    }
}

/// Value of one ASCII hex digit (the caller has checked it is one).
fn hex_digit(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// WCAG 2.x contrast ratio (L1 + 0.05) / (L2 + 0.05), L1 the lighter relative
/// luminance (<https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio>); from 1.0 to 21.0.
pub fn contrast(a: Color, b: Color) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    let (lighter, darker) = if la >= lb { (la, lb) } else { (lb, la) };
    (lighter + 0.05) / (darker + 0.05)
}

/// Least contrast ratio for normal text: WCAG 2.x success criterion 1.4.3, level AA.
pub const MIN_CONTRAST: f64 = 4.5;
/// Text on the accent-coloured button in light mode (white).
pub const LIGHT_BUTTON_TEXT: Color = Color::rgb(0xffffff);
/// Card background in light mode (white); links on it are accent-coloured.
pub const LIGHT_CARD: Color = Color::rgb(0xffffff);
/// Text on the accent-coloured button in dark mode (`#121316`).
pub const DARK_BUTTON_TEXT: Color = Color::rgb(0x121316);
/// Card background in dark mode (`#1d1f24`); links on it are accent-coloured.
pub const DARK_CARD: Color = Color::rgb(0x1d1f24);
/// Accent colour in light mode when the policy names none (`#2557d6`).
pub const DEFAULT_LIGHT: Color = Color::rgb(0x2557d6);
/// Accent colour in dark mode when the policy names none (`#8ab0ff`).
pub const DEFAULT_DARK: Color = Color::rgb(0x8ab0ff);

const WHITE: Color = Color::rgb(0xffffff);

/// The accent colours of one theme, both checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accent {
    /// Accent in light mode; passes [`Accent::check_light`].
    pub light: Color,
    /// Accent in dark mode; passes [`Accent::check_dark`].
    pub dark: Color,
}

impl Accent {
    /// The built-in theme: [`DEFAULT_LIGHT`] and [`DEFAULT_DARK`].
    pub const DEFAULT: Accent = Accent {
        light: DEFAULT_LIGHT,
        dark: DEFAULT_DARK,
    };

    /// Checks a light-mode accent: its contrast with [`LIGHT_BUTTON_TEXT`] and with
    /// [`LIGHT_CARD`] must both be at least [`MIN_CONTRAST`]. The error names the
    /// lower one with the measured ratio to two decimals.
    pub fn check_light(c: Color) -> Result<Color, String> {
        check_against(
            c,
            [
                (LIGHT_BUTTON_TEXT, "the button text"),
                (LIGHT_CARD, "the card background"),
            ],
            "light",
            "darker",
        )
    }

    /// Checks a dark-mode accent: its contrast with [`DARK_BUTTON_TEXT`] and with
    /// [`DARK_CARD`] must both be at least [`MIN_CONTRAST`]. The error names the
    /// lower one with the measured ratio to two decimals.
    pub fn check_dark(c: Color) -> Result<Color, String> {
        check_against(
            c,
            [
                (DARK_BUTTON_TEXT, "the button text"),
                (DARK_CARD, "the card background"),
            ],
            "dark",
            "lighter",
        )
    }

    /// The dark-mode accent derived from a light one when the policy gives none:
    /// `light` mixed with white in steps of 5 % until [`Accent::check_dark`] passes
    /// (`light` itself if it already passes; white always passes, so this ends).
    pub fn derive_dark(light: Color) -> Color {
        (0..=20u32)
            .map(|step| light.mix_with_white(f64::from(step) * 0.05))
            .find(|c| Self::check_dark(*c).is_ok())
            .unwrap_or(WHITE)
    }

    /// The stylesheet of this theme: `--accent` and `--on-accent` for light mode,
    /// and again inside `@media (prefers-color-scheme: dark)`.
    pub fn css(&self) -> String {
        format!(
            ":root{{--accent:{};--on-accent:{}}}\n\
             @media (prefers-color-scheme: dark){{:root{{--accent:{};--on-accent:{}}}}}\n",
            self.light.hex(),
            LIGHT_BUTTON_TEXT.hex(),
            self.dark.hex(),
            DARK_BUTTON_TEXT.hex(),
        )
    }
}

/// Checks `c` against the colours it is shown with; the error names the worst pair.
fn check_against(
    c: Color,
    neighbours: [(Color, &str); 2],
    mode: &str,
    direction: &str,
) -> Result<Color, String> {
    let [(first, first_name), (second, second_name)] = neighbours;
    let (ratio_first, ratio_second) = (contrast(c, first), contrast(c, second));
    let (ratio, other, name) = if ratio_first <= ratio_second {
        (ratio_first, first, first_name)
    } else {
        (ratio_second, second, second_name)
    };
    if ratio >= MIN_CONTRAST {
        return Ok(c);
    }
    Err(format!(
        "{} has a contrast of {}:1 with {name} {} in {mode} mode; at least {MIN_CONTRAST}:1 is \
         needed (WCAG 2.1 AA); pick a {direction} colour",
        c.hex(),
        failing_ratio(ratio),
        other.hex(),
    ))
}

/// A failing ratio to two decimals, never shown as reaching [`MIN_CONTRAST`]
/// (4.496 would round to "4.50" although it fails; it is shown as "4.49").
fn failing_ratio(ratio: f64) -> String {
    let rounded = format!("{ratio:.2}");
    if rounded.parse::<f64>().is_ok_and(|r| r >= MIN_CONTRAST) {
        format!("{:.2}", (ratio * 100.0).floor() / 100.0)
    } else {
        rounded
    }
}

// ---------------------------------------------------------------------------
// Logos
// ---------------------------------------------------------------------------

/// Largest logo or favicon accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// The image formats accepted for a logo or favicon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// SVG, checked by [`check_svg`].
    Svg,
    /// WebP.
    Webp,
    /// Windows icon (favicon).
    Ico,
}

impl ImageKind {
    /// The `Content-Type` to serve it with.
    pub fn content_type(&self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Svg => "image/svg+xml",
            ImageKind::Webp => "image/webp",
            ImageKind::Ico => "image/x-icon",
        }
    }

    /// The file extension, without the dot: `png`, `svg`, `webp` or `ico`.
    pub fn extension(&self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Svg => "svg",
            ImageKind::Webp => "webp",
            ImageKind::Ico => "ico",
        }
    }

    /// The format's name as people write it.
    fn label(&self) -> &'static str {
        match self {
            ImageKind::Png => "PNG",
            ImageKind::Svg => "SVG",
            ImageKind::Webp => "WebP",
            ImageKind::Ico => "ICO",
        }
    }

    fn from_extension(extension: &str) -> Option<ImageKind> {
        [
            ImageKind::Png,
            ImageKind::Svg,
            ImageKind::Webp,
            ImageKind::Ico,
        ]
        .into_iter()
        .find(|k| extension.eq_ignore_ascii_case(k.extension()))
    }
}

/// Why a logo file is refused. The texts continue a sentence whose subject (the
/// policy location and key, or the file) the caller puts in front.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogoError {
    /// The file is larger than [`MAX_LOGO_BYTES`].
    #[error("is {bytes} bytes; logos may be at most {MAX_LOGO_BYTES} bytes (256 KiB)")]
    TooLarge {
        /// The file's size in bytes.
        bytes: usize,
    },
    /// The contents are none of the accepted formats.
    #[error("is not a PNG, SVG, WebP or ICO image (.png, .svg, .webp or .ico)")]
    UnknownType,
    /// The file name's extension does not match the contents.
    #[error("{}", mismatch_text(.extension, .found))]
    Mismatch {
        /// The extension as written in the file name, without the dot; empty if none.
        extension: String,
        /// The format found in the contents: "PNG", "SVG", "WebP" or "ICO".
        found: &'static str,
    },
    /// An SVG that is refused, with the 1-based position of the offending construct.
    #[error("at line {line}, column {column} {reason}")]
    Svg {
        /// Line in the SVG text, from 1.
        line: u64,
        /// Column in characters (Unicode scalar values), from 1.
        column: u64,
        /// What is wrong, as a phrase starting with a verb ("has a <script> element; …").
        reason: String,
    },
}

fn mismatch_text(extension: &str, found: &str) -> String {
    let proper = [
        ImageKind::Png,
        ImageKind::Svg,
        ImageKind::Webp,
        ImageKind::Ico,
    ]
    .into_iter()
    .find(|k| k.label() == found)
    .map_or("", |k| k.extension());
    if extension.is_empty() {
        format!("has no file extension but holds {found} data; name it with .{proper}")
    } else {
        format!("is named .{extension} but holds {found} data; name it with .{proper}")
    }
}

/// Checks a logo's bytes: size first, then the kind from its magic bytes (PNG,
/// `RIFF….WEBP`, ICO `00 00 01 00`, or SVG text whose first element is `<svg>` in
/// the SVG namespace), which must agree with `file_name`'s extension (`.png`,
/// `.svg`, `.webp`, `.ico`, any case). SVGs also go through [`check_svg`]; a file
/// named `.svg` without a binary signature is always checked as SVG, so its error
/// points into the text.
pub fn check_logo(file_name: &str, bytes: &[u8]) -> Result<ImageKind, LogoError> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(LogoError::TooLarge { bytes: bytes.len() });
    }
    let extension = file_extension(file_name);
    let named = ImageKind::from_extension(extension);
    let found = match binary_kind(bytes) {
        Some(kind) => kind,
        None if named == Some(ImageKind::Svg) => ImageKind::Svg,
        None if looks_like_svg(bytes) => ImageKind::Svg,
        None => return Err(LogoError::UnknownType),
    };
    if named != Some(found) {
        return Err(LogoError::Mismatch {
            extension: extension.to_string(),
            found: found.label(),
        });
    }
    if found == ImageKind::Svg {
        check_svg(bytes)?;
    }
    Ok(found)
}

/// The extension of the last path component, without the dot; "" if none.
fn file_extension(file_name: &str) -> &str {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    base.rsplit_once('.').map_or("", |(_, ext)| ext)
}

fn binary_kind(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP".as_slice()) {
        Some(ImageKind::Webp)
    } else if bytes.starts_with(&[0, 0, 1, 0]) {
        Some(ImageKind::Ico)
    } else {
        None
    }
}

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether the first element (after an optional BOM, XML declaration, comments,
/// DOCTYPE and whitespace) is `<svg>` in the SVG namespace. Only for sniffing.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let Ok(src) = std::str::from_utf8(body) else {
        return false;
    };
    let mut reader = NsReader::from_str(src);
    loop {
        match reader.read_resolved_event() {
            Ok((ns, Event::Start(e) | Event::Empty(e))) => {
                return e.local_name().into_inner() == "svg" && namespace_of(&ns) == Ns::Svg;
            }
            Ok((_, Event::Decl(_) | Event::Comment(_) | Event::DocType(_) | Event::PI(_))) => {}
            Ok((_, Event::Text(t))) if t.chars().all(is_xml_space) => {}
            _ => return false,
        }
    }
}

/// Refuses (never rewrites) an SVG that could run code or fetch anything when shown.
///
/// Refused: invalid UTF-8; XML that does not parse (including undefined entities and
/// unclosed elements); a DOCTYPE (and so any entity declaration); processing
/// instructions other than a leading `<?xml …?>` declaration; a root element other
/// than `<svg>` in the SVG namespace; the elements script, handler, listener,
/// foreignObject, iframe, frame, embed, object, audio, video and image (any prefix,
/// local name in any case) and any element in the XHTML namespace;
/// animate/set/animateTransform/animateMotion/animateColor whose `attributeName`
/// targets an href, `xml:base` or an `on*` attribute; any attribute whose local
/// name starts with "on"; `xml:base`; an href (any prefix) that is not a
/// same-document reference `#id`; and, in any attribute value or `<style>` text
/// (after XML references are resolved, ASCII case-insensitively), `url(` not
/// followed by `#`, `@import`, `javascript:` / `vbscript:` (also with spaces or
/// control characters inside), `image(`, `image-set(`, `src(`, `expression(`, or a
/// backslash (CSS escapes could spell any of these).
///
/// The error carries the 1-based line and column of the offending construct: the
/// `<` of an element, declaration or instruction, the first character of an
/// attribute's name, or the offending text inside `<style>`. A leading BOM is not
/// counted.
pub fn check_svg(text: &[u8]) -> Result<(), LogoError> {
    let body = text.strip_prefix(UTF8_BOM).unwrap_or(text);
    let src = std::str::from_utf8(body).map_err(|e| {
        svg_error(
            body,
            e.valid_up_to(),
            "is not valid UTF-8 text; save the SVG as UTF-8".to_string(),
        )
    })?;
    Scan {
        src,
        depth: 0,
        root: Root::NotYet,
        style: None,
    }
    .run()
}

/// [`LogoError::Svg`] at byte `offset` of `src` (clamped to its length).
fn svg_error(src: &[u8], offset: usize, reason: String) -> LogoError {
    let before = src.get(..offset).unwrap_or(src);
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let newlines = before.iter().filter(|&&b| b == b'\n').count();
    // Count characters, not bytes: every byte but UTF-8 continuation bytes.
    let chars = before
        .get(line_start..)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count();
    LogoError::Svg {
        line: u64::try_from(newlines)
            .unwrap_or(u64::MAX)
            .saturating_add(1),
        column: u64::try_from(chars).unwrap_or(u64::MAX).saturating_add(1),
        reason,
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Svg,
    Xhtml,
    Other,
}

fn namespace_of(ns: &ResolveResult<'_>) -> Ns {
    match ns {
        ResolveResult::Bound(Namespace(SVG_NS)) => Ns::Svg,
        ResolveResult::Bound(Namespace(XHTML_NS)) => Ns::Xhtml,
        _ => Ns::Other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    NotYet,
    Open,
    Closed,
}

/// The text of a `<style>` element, gathered until it closes.
struct StyleText {
    /// Depth of the `<style>` element itself.
    depth: usize,
    /// Its text with references resolved.
    text: String,
    /// Where each piece of `text` came from in the source.
    pieces: Vec<Piece>,
}

struct Piece {
    /// Byte index in [`StyleText::text`] where the piece starts.
    at: usize,
    /// Byte offset in the source where it starts.
    src: usize,
    /// Whether the piece is the source text itself (else it stands for a reference).
    verbatim: bool,
}

struct Scan<'a> {
    src: &'a str,
    depth: usize,
    root: Root,
    style: Option<StyleText>,
}

impl<'a> Scan<'a> {
    fn fail(&self, offset: usize, reason: impl Into<String>) -> LogoError {
        svg_error(self.src.as_bytes(), offset, reason.into())
    }

    fn run(mut self) -> Result<(), LogoError> {
        let mut reader = NsReader::from_str(self.src);
        reader.config_mut().check_comments = true;
        loop {
            let start = to_usize(reader.buffer_position());
            let (ns, event) = match reader.read_resolved_event() {
                Ok((ns, event)) => (namespace_of(&ns), event),
                Err(e) => {
                    let at = to_usize(reader.error_position());
                    return Err(self.fail(at, format!("is not well-formed XML ({e})")));
                }
            };
            match event {
                Event::Decl(_) if start != 0 => {
                    return Err(self.fail(
                        start,
                        "has an XML declaration that is not at the very start of the file",
                    ));
                }
                Event::Decl(_) | Event::Comment(_) => {}
                Event::PI(pi) => {
                    return Err(self.fail(
                        start,
                        format!(
                            "has the processing instruction <?{}?>; SVG logos may carry none \
                             except the leading <?xml …?> declaration",
                            pi.target()
                        ),
                    ));
                }
                Event::DocType(doctype) => {
                    let reason = if doctype.to_ascii_uppercase().contains("<!ENTITY") {
                        "has a <!DOCTYPE> that declares entities; SVG logos may not carry a \
                         DOCTYPE or entity declarations"
                    } else {
                        "has a <!DOCTYPE>; SVG logos may not carry one (it could declare \
                         entities), remove it"
                    };
                    return Err(self.fail(start, reason));
                }
                Event::Text(text) => self.text(start, &text)?,
                // The content starts after "<![CDATA[".
                Event::CData(cdata) => self.text(start + 9, &cdata)?,
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match resolve_predefined_entity(&reference) {
                            Some(s) => s.to_string(),
                            None => {
                                return Err(self.fail(
                                    start,
                                    format!("refers to the undefined entity &{};", &*reference),
                                ));
                            }
                        },
                        Err(e) => {
                            return Err(self.fail(start, format!("is not well-formed XML ({e})")));
                        }
                    };
                    self.reference(start, &resolved)?;
                }
                Event::Start(element) => {
                    self.element(start, ns, &element)?;
                    if self.style.is_none()
                        && element
                            .local_name()
                            .into_inner()
                            .eq_ignore_ascii_case("style")
                    {
                        self.style = Some(StyleText {
                            depth: self.depth,
                            text: String::new(),
                            pieces: Vec::new(),
                        });
                    }
                    self.root = Root::Open;
                    self.depth += 1;
                }
                Event::Empty(element) => {
                    self.element(start, ns, &element)?;
                    if self.depth == 0 {
                        self.root = Root::Closed;
                    }
                }
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.style.as_ref().is_some_and(|s| s.depth == self.depth)
                        && let Some(style) = self.style.take()
                    {
                        self.check_style(&style)?;
                    }
                    if self.depth == 0 {
                        self.root = Root::Closed;
                    }
                }
                Event::Eof => {
                    return match self.root {
                        Root::NotYet => {
                            Err(self.fail(start, "has no <svg> element; it is not an SVG image"))
                        }
                        Root::Open => Err(self.fail(
                            start,
                            "ends before its <svg> element is closed; the file is cut short",
                        )),
                        Root::Closed => Ok(()),
                    };
                }
            }
        }
    }

    /// Character data (text or CDATA content) starting at byte `start`.
    fn text(&mut self, start: usize, text: &str) -> Result<(), LogoError> {
        if self.root != Root::Open {
            if let Some(i) = text.find(|c| !is_xml_space(c)) {
                return Err(self.outside_root(start + i));
            }
            return Ok(());
        }
        if let Some(style) = self.style.as_mut() {
            style.pieces.push(Piece {
                at: style.text.len(),
                src: start,
                verbatim: true,
            });
            style.text.push_str(text);
        }
        Ok(())
    }

    /// A resolved character or entity reference at byte `start`.
    fn reference(&mut self, start: usize, resolved: &str) -> Result<(), LogoError> {
        if self.root != Root::Open {
            return Err(self.outside_root(start));
        }
        if let Some(style) = self.style.as_mut() {
            style.pieces.push(Piece {
                at: style.text.len(),
                src: start,
                verbatim: false,
            });
            style.text.push_str(resolved);
        }
        Ok(())
    }

    fn outside_root(&self, at: usize) -> LogoError {
        if self.root == Root::NotYet {
            self.fail(at, "has text before the <svg> element")
        } else {
            self.fail(at, "has text after the end of the <svg> element")
        }
    }

    /// Checks a start or empty tag that begins (with its `<`) at byte `start`.
    fn element(&self, start: usize, ns: Ns, element: &BytesStart<'_>) -> Result<(), LogoError> {
        let qname = element.name().into_inner();
        let local = element.local_name().into_inner();
        match self.root {
            Root::NotYet if local != "svg" => {
                return Err(self.fail(
                    start,
                    format!("starts with <{qname}> instead of <svg>; it is not an SVG image"),
                ));
            }
            Root::NotYet if ns != Ns::Svg => {
                return Err(self.fail(
                    start,
                    format!(
                        "has a root <{qname}> element that is not in the SVG namespace; add \
                         xmlns=\"{SVG_NS}\""
                    ),
                ));
            }
            Root::Closed => {
                return Err(self.fail(
                    start,
                    format!(
                        "has the element <{qname}> after the end of the <svg> element; \
                         everything must be inside the one <svg> element"
                    ),
                ));
            }
            Root::NotYet | Root::Open => {}
        }
        let local_lower = local.to_ascii_lowercase();
        if let Some(why) = forbidden_element(&local_lower) {
            let article = if qname.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
                "an"
            } else {
                "a"
            };
            return Err(self.fail(start, format!("has {article} <{qname}> element; {why}")));
        }
        if ns == Ns::Xhtml {
            return Err(self.fail(
                start,
                format!("has the XHTML element <{qname}>; SVG logos may only use SVG elements"),
            ));
        }
        let animation = matches!(
            local_lower.as_str(),
            "animate" | "set" | "animatetransform" | "animatemotion" | "animatecolor"
        );
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|e| {
                let (offset, what) = attr_error(&e);
                // Attribute error positions count from the byte after '<'.
                self.fail(
                    start + 1 + offset,
                    format!("is not well-formed XML: {what}"),
                )
            })?;
            let key = attribute.key.into_inner();
            let at = self.offset_of(key).unwrap_or(start);
            let (prefix, local) = match key.split_once(':') {
                Some((prefix, local)) => (Some(prefix), local),
                None => (None, key),
            };
            if key == "xmlns" || prefix == Some("xmlns") {
                continue; // a namespace declaration, not an attribute of the element
            }
            let local_lower = local.to_ascii_lowercase();
            if local_lower.starts_with("on") {
                return Err(self.fail(
                    at,
                    format!(
                        "has the event handler attribute {key}; SVG logos may not carry scripts"
                    ),
                ));
            }
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| self.fail(at, format!("is not well-formed XML ({e})")))?;
            if local_lower == "href" && !value.starts_with('#') {
                return Err(self.fail(
                    at,
                    format!(
                        "has {key}=\"{}\", which points outside the logo; SVG logos may only \
                         refer to their own elements (\"#id\")",
                        shorten(&value)
                    ),
                ));
            }
            if prefix == Some("xml") && local_lower == "base" {
                return Err(self.fail(
                    at,
                    "has xml:base, which could make references point outside the logo",
                ));
            }
            if animation && local.eq_ignore_ascii_case("attributeName") {
                let target = value.trim_matches(is_xml_space);
                let target_local = target
                    .rsplit(':')
                    .next()
                    .unwrap_or(target)
                    .to_ascii_lowercase();
                if target_local == "href"
                    || target_local.starts_with("on")
                    || target.eq_ignore_ascii_case("xml:base")
                {
                    return Err(self.fail(
                        at,
                        format!(
                            "animates the {} attribute; SVG logos may not change links or \
                             event handlers",
                            shorten(target)
                        ),
                    ));
                }
            }
            if let Some((i, problem)) = css_problem(&value) {
                let snippet = value.get(i..).unwrap_or_default();
                return Err(self.fail(
                    at,
                    problem.sentence(snippet, &format!("its {key} attribute")),
                ));
            }
        }
        Ok(())
    }

    fn check_style(&self, style: &StyleText) -> Result<(), LogoError> {
        let Some((i, problem)) = css_problem(&style.text) else {
            return Ok(());
        };
        let at = style
            .pieces
            .iter()
            .rev()
            .find(|p| p.at <= i)
            .map_or(0, |p| {
                if p.verbatim {
                    p.src + (i - p.at)
                } else {
                    p.src
                }
            });
        let snippet = style.text.get(i..).unwrap_or_default();
        Err(self.fail(at, problem.sentence(snippet, "a <style> element")))
    }

    /// Byte offset of `part` in the source, if it is a slice of it.
    fn offset_of(&self, part: &str) -> Option<usize> {
        let offset = part.as_ptr().addr().checked_sub(self.src.as_ptr().addr())?;
        (offset <= self.src.len()).then_some(offset)
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn forbidden_element(local_lower: &str) -> Option<&'static str> {
    match local_lower {
        "script" | "handler" | "listener" => Some("SVG logos may not carry scripts"),
        "foreignobject" => Some("SVG logos may not embed HTML or other foreign content"),
        "iframe" | "frame" | "embed" | "object" => Some("SVG logos may not embed other documents"),
        "audio" | "video" => Some("SVG logos may not embed media"),
        "image" => Some("SVG logos may not load or embed images; draw the picture in SVG"),
        _ => None,
    }
}

/// Byte offset (from the byte after '<') and description of an attribute syntax error.
fn attr_error(e: &AttrError) -> (usize, &'static str) {
    match *e {
        AttrError::ExpectedEq(at) => (at, "an attribute name is not followed by `=`"),
        AttrError::ExpectedValue(at) => (at, "`=` is not followed by an attribute value"),
        AttrError::UnquotedValue(at) => (at, "an attribute value is not in quotes"),
        AttrError::ExpectedQuote(at, _) => (at, "an attribute value lacks its closing quote"),
        AttrError::Duplicated(at, _) => (at, "the same attribute is given twice"),
    }
}

/// At most 40 characters of `text`, with "…" if cut.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_string(),
    }
}

/// Something in CSS or an attribute value that could fetch a resource or run code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CssProblem {
    /// `url(` not followed by `#`.
    ExternalUrl,
    /// `@import`.
    Import,
    /// `javascript:` or `vbscript:`.
    ScriptUrl,
    /// `image(`, `image-set(`, `src(` (take plain strings as URLs) or `expression(`.
    LoadingFunction,
    /// A backslash: a CSS escape could spell any of the above.
    Escape,
}

impl CssProblem {
    /// "has … in {place}; …", quoting the start of `snippet` (the text from the
    /// problem on) where that helps.
    fn sentence(&self, snippet: &str, place: &str) -> String {
        let quoted = || {
            let end = snippet.find(')').map_or(snippet.len(), |i| i + 1);
            shorten(snippet.get(..end).unwrap_or(snippet))
        };
        match self {
            CssProblem::ExternalUrl => format!(
                "has {} in {place}; SVG logos may only use url(#id) to refer to their own \
                 elements",
                quoted()
            ),
            CssProblem::Import => {
                format!("has @import in {place}; SVG logos may not load style sheets")
            }
            CssProblem::ScriptUrl => {
                format!("has a script URL in {place}; SVG logos may not carry scripts")
            }
            CssProblem::LoadingFunction => format!(
                "has {} in {place}; SVG logos may not load images or run code",
                quoted()
            ),
            CssProblem::Escape => {
                format!("has a backslash in {place}; CSS escapes are not accepted in SVG logos")
            }
        }
    }
}

/// The first problem in `text` (by byte index), if any.
fn css_problem(text: &str) -> Option<(usize, CssProblem)> {
    let lower = text.to_ascii_lowercase(); // same byte indices as `text`
    let mut first: Option<(usize, CssProblem)> = None;
    let mut note = |i: usize, problem: CssProblem| {
        if first.is_none_or(|(j, _)| i < j) {
            first = Some((i, problem));
        }
    };
    for (i, _) in lower.match_indices("url(") {
        let inside = lower
            .get(i + 4..)
            .unwrap_or_default()
            .trim_start_matches([' ', '\t', '\n', '\r', '\x0c']);
        let inside = inside.strip_prefix(['"', '\'']).unwrap_or(inside);
        if !inside.starts_with('#') {
            note(i, CssProblem::ExternalUrl);
        }
    }
    for (needle, problem) in [
        ("@import", CssProblem::Import),
        ("image(", CssProblem::LoadingFunction),
        ("image-set(", CssProblem::LoadingFunction),
        ("src(", CssProblem::LoadingFunction),
        ("expression(", CssProblem::LoadingFunction),
        ("\\", CssProblem::Escape),
    ] {
        if let Some(i) = lower.find(needle) {
            note(i, problem);
        }
    }
    // URL parsers drop tabs and newlines, and browsers have skipped other control
    // characters and spaces too: look for the schemes with all of those removed.
    let kept: Vec<(usize, char)> = lower
        .char_indices()
        .filter(|&(_, c)| !(c.is_whitespace() || c.is_control()))
        .collect();
    let squeezed: String = kept.iter().map(|&(_, c)| c).collect();
    for scheme in ["javascript:", "vbscript:"] {
        if let Some(k) = squeezed.find(scheme) {
            let nth = squeezed.get(..k).unwrap_or_default().chars().count();
            if let Some(&(i, _)) = kept.get(nth) {
                note(i, CssProblem::ScriptUrl);
            }
        }
    }
    first
}

/// The name a logo is served under: the first 16 hex digits of its SHA-256 and its
/// extension, e.g. `3f2a5b0c9d8e7f61.svg`, so a changed file gets a new URL and the
/// old one can be cached forever.
pub fn asset_name(kind: ImageKind, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    // ----- colours

    #[test]
    fn parses_colours() {
        assert_eq!(
            Color::parse("#2557d6"),
            Ok(Color {
                r: 0x25,
                g: 0x57,
                b: 0xd6
            })
        );
        assert_eq!(Color::parse("#2557D6"), Color::parse("#2557d6"));
        assert_eq!(
            Color::parse("#aBc"),
            Ok(Color {
                r: 0xaa,
                g: 0xbb,
                b: 0xcc
            })
        );
        assert_eq!(Color::parse("#000"), Ok(Color { r: 0, g: 0, b: 0 }));
        assert_eq!(Color::parse("#FFFFFF"), Ok(WHITE));
        assert_eq!(
            Color::parse("#2557D6").map(|c| c.hex()),
            Ok("#2557d6".into())
        );
    }

    #[test]
    fn refuses_bad_colours() {
        assert_eq!(
            Color::parse("#12"),
            Err("\"#12\" is not a colour; write it as #rrggbb, e.g. #2557d6".to_string())
        );
        for bad in [
            "",
            "#",
            "2557d6",
            "#2557d",
            "#2557d6f",
            "#gg0000",
            "#+f0",
            "#+ff0000",
            " #2557d6",
            "#2557d6 ",
            "#éé",
            "rgb(1,2,3)",
            "##25577",
        ] {
            let err = Color::parse(bad).expect_err(bad);
            assert!(
                err.starts_with(&format!("{bad:?} is not a colour")),
                "{err}"
            );
        }
    }

    #[test]
    fn luminance_and_contrast_follow_wcag() {
        let black = Color { r: 0, g: 0, b: 0 };
        assert_eq!(black.luminance(), 0.0);
        assert!((WHITE.luminance() - 1.0).abs() < 1e-12);
        assert!((contrast(black, WHITE) - 21.0).abs() < 1e-9);
        assert_eq!(contrast(DARK_CARD, DARK_CARD), 1.0);
        assert_eq!(contrast(WHITE, DEFAULT_DARK), contrast(DEFAULT_DARK, WHITE));
        assert_eq!(format!("{:.2}", contrast(WHITE, DEFAULT_DARK)), "2.16");
        let c = contrast(DEFAULT_LIGHT, WHITE);
        assert!(c > MIN_CONTRAST, "{c}");
        assert_eq!(format!("{c:.2}"), "6.15");
        // Mid grey #777777 is the classic just-below-AA grey on white (4.48:1).
        let grey = Color::parse("#777777").unwrap();
        assert_eq!(format!("{:.2}", contrast(grey, WHITE)), "4.48");
    }

    #[test]
    fn mixes_with_white() {
        let black = Color { r: 0, g: 0, b: 0 };
        assert_eq!(black.mix_with_white(0.0), black);
        assert_eq!(black.mix_with_white(1.0), WHITE);
        assert_eq!(black.mix_with_white(0.5).hex(), "#808080"); // 127.5 rounds up
        assert_eq!(DEFAULT_LIGHT.mix_with_white(0.25).hex(), "#5c81e0");
        assert_eq!(black.mix_with_white(-3.0), black);
        assert_eq!(black.mix_with_white(7.0), WHITE);
        assert_eq!(black.mix_with_white(f64::NAN), black);
    }

    #[test]
    fn default_accent_passes_both_checks() {
        assert_eq!(
            Accent::check_light(Accent::DEFAULT.light),
            Ok(DEFAULT_LIGHT)
        );
        assert_eq!(Accent::check_dark(Accent::DEFAULT.dark), Ok(DEFAULT_DARK));
    }

    #[test]
    fn light_check_names_the_ratio() {
        assert_eq!(
            Accent::check_light(DEFAULT_DARK),
            Err(
                "#8ab0ff has a contrast of 2.16:1 with the button text #ffffff in light mode; \
                 at least 4.5:1 is needed (WCAG 2.1 AA); pick a darker colour"
                    .to_string()
            )
        );
        let white = Accent::check_light(WHITE).unwrap_err();
        assert!(white.contains("contrast of 1.00:1"), "{white}");
        let grey = Accent::check_light(Color::parse("#777").unwrap()).unwrap_err();
        assert!(grey.contains("contrast of 4.48:1"), "{grey}");
        let black = Color { r: 0, g: 0, b: 0 };
        assert_eq!(Accent::check_light(black), Ok(black));
        // #767676 is the lightest grey that passes on white (4.54:1).
        let passing = Color::parse("#767676").unwrap();
        assert_eq!(Accent::check_light(passing), Ok(passing));
    }

    #[test]
    fn dark_check_names_the_lowest_neighbour() {
        // The card (#1d1f24) is lighter than the button text (#121316), so it is the
        // lower contrast for any accent lighter than both.
        let expected = format!(
            "#2557d6 has a contrast of {:.2}:1 with the card background #1d1f24 in dark mode; \
             at least 4.5:1 is needed (WCAG 2.1 AA); pick a lighter colour",
            contrast(DEFAULT_LIGHT, DARK_CARD)
        );
        assert_eq!(Accent::check_dark(DEFAULT_LIGHT), Err(expected.clone()));
        assert!(expected.contains("contrast of 2.68:1"), "{expected}");
        // An accent darker than both backgrounds is lowest against the button text.
        let black = Color { r: 0, g: 0, b: 0 };
        let err = Accent::check_dark(black).unwrap_err();
        assert!(
            err.starts_with(
                "#000000 has a contrast of 1.13:1 with the button text #121316 in dark mode"
            ),
            "{err}"
        );
        assert_eq!(Accent::check_dark(WHITE), Ok(WHITE));
    }

    #[test]
    fn failing_ratio_never_reads_as_passing() {
        assert_eq!(failing_ratio(4.4999), "4.49");
        assert_eq!(failing_ratio(4.494), "4.49");
        assert_eq!(failing_ratio(2.156), "2.16");
    }

    #[test]
    fn derives_a_dark_accent() {
        let derived = Accent::derive_dark(DEFAULT_LIGHT);
        assert_eq!(Accent::check_dark(derived), Ok(derived));
        assert_ne!(derived, DEFAULT_LIGHT);
        // It is the first 5 % step that passes: the step before fails.
        let step = (0..=20)
            .find(|s| DEFAULT_LIGHT.mix_with_white(f64::from(*s) * 0.05) == derived)
            .unwrap();
        assert!(step > 0);
        let before = DEFAULT_LIGHT.mix_with_white(f64::from(step - 1) * 0.05);
        assert!(Accent::check_dark(before).is_err());
        // Unchanged when the colour already passes.
        assert_eq!(Accent::derive_dark(DEFAULT_DARK), DEFAULT_DARK);
        assert_eq!(Accent::derive_dark(WHITE), WHITE);
        let black = Color { r: 0, g: 0, b: 0 };
        let from_black = Accent::derive_dark(black);
        assert!(Accent::check_dark(from_black).is_ok());
    }

    #[test]
    fn css_is_exact() {
        assert_eq!(
            Accent::DEFAULT.css(),
            ":root{--accent:#2557d6;--on-accent:#ffffff}\n\
             @media (prefers-color-scheme: dark){:root{--accent:#8ab0ff;--on-accent:#121316}}\n"
        );
    }

    // ----- logos

    fn png(len: usize) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.resize(len, 0);
        bytes
    }

    const CLEAN_SVG: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<!-- company logo -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">
  <title>Acme &amp; Sons &#169;</title>
  <defs>
    <linearGradient id="g"><stop offset="0" stop-color="#fff"/><stop offset="1" stop-color="#000"/></linearGradient>
    <path id="a" d="M0 0h10v10z"/>
  </defs>
  <style>.x { fill: url(#g) } .y { stroke: url( '#g' ) }</style>
  <style><![CDATA[ .z > rect { fill: URL("#g") } ]]></style>
  <rect class="x" fill="url(#g)" style="stroke:url('#g')" width="10" height="10"/>
  <use href="#a"/>
  <use xlink:href="#a"/>
  <animate attributeName="opacity" from="0" to="1" dur="1s"/>
</svg>
"##;

    #[test]
    fn accepts_png_webp_ico() {
        assert_eq!(check_logo("logo.png", &png(100)), Ok(ImageKind::Png));
        assert_eq!(check_logo("dir/LOGO.PNG", &png(8)), Ok(ImageKind::Png));
        assert_eq!(
            check_logo("logo.webp", b"RIFF\x10\0\0\0WEBPVP8 "),
            Ok(ImageKind::Webp)
        );
        assert_eq!(
            check_logo("favicon.ico", &[0, 0, 1, 0, 1, 0, 16, 16]),
            Ok(ImageKind::Ico)
        );
        assert_eq!(
            check_logo("logo.svg", CLEAN_SVG.as_bytes()),
            Ok(ImageKind::Svg)
        );
        assert_eq!(ImageKind::Svg.content_type(), "image/svg+xml");
        assert_eq!(ImageKind::Ico.content_type(), "image/x-icon");
        assert_eq!(ImageKind::Webp.extension(), "webp");
    }

    #[test]
    fn refuses_mismatched_and_unknown_files() {
        assert_eq!(
            check_logo("logo.svg", &png(100)),
            Err(LogoError::Mismatch {
                extension: "svg".into(),
                found: "PNG"
            })
        );
        let err = check_logo("logo.png", CLEAN_SVG.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            LogoError::Mismatch {
                extension: "png".into(),
                found: "SVG"
            }
        );
        assert_eq!(
            err.to_string(),
            "is named .png but holds SVG data; name it with .svg"
        );
        assert_eq!(
            check_logo("logo.JPG", &[0, 0, 1, 0]),
            Err(LogoError::Mismatch {
                extension: "JPG".into(),
                found: "ICO"
            })
        );
        assert_eq!(
            check_logo("logo", b"RIFF\0\0\0\0WEBP"),
            Err(LogoError::Mismatch {
                extension: String::new(),
                found: "WebP"
            })
        );
        assert_eq!(
            check_logo("logo.png", b"GIF89a...."),
            Err(LogoError::UnknownType)
        );
        assert_eq!(
            check_logo("logo.webp", b"RIFF\0\0\0\0WAVE"),
            Err(LogoError::UnknownType)
        );
        assert_eq!(
            check_logo("logo.gif", b"GIF89a"),
            Err(LogoError::UnknownType)
        );
        assert_eq!(
            LogoError::UnknownType.to_string(),
            "is not a PNG, SVG, WebP or ICO image (.png, .svg, .webp or .ico)"
        );
        // A file named .svg is checked as SVG, so the error points into it.
        assert_eq!(
            check_logo("logo.svg", b"<html/>"),
            Err(LogoError::Svg {
                line: 1,
                column: 1,
                reason: "starts with <html> instead of <svg>; it is not an SVG image".into()
            })
        );
    }

    #[test]
    fn enforces_the_size_limit() {
        assert_eq!(
            check_logo("logo.png", &png(MAX_LOGO_BYTES)),
            Ok(ImageKind::Png)
        );
        assert_eq!(
            check_logo("logo.png", &png(MAX_LOGO_BYTES + 1)),
            Err(LogoError::TooLarge {
                bytes: MAX_LOGO_BYTES + 1
            })
        );
        assert_eq!(
            LogoError::TooLarge { bytes: 300_000 }.to_string(),
            "is 300000 bytes; logos may be at most 262144 bytes (256 KiB)"
        );
    }

    #[test]
    fn names_assets_by_hash() {
        assert_eq!(asset_name(ImageKind::Png, b""), "e3b0c44298fc1c14.png");
        assert_eq!(asset_name(ImageKind::Svg, b"abc"), "ba7816bf8f01cfea.svg");
    }

    // ----- SVG

    /// The (line, column, reason) of a refused SVG.
    fn refused(svg: &str) -> (u64, u64, String) {
        match check_svg(svg.as_bytes()) {
            Err(LogoError::Svg {
                line,
                column,
                reason,
            }) => (line, column, reason),
            other => panic!("expected an SVG error, got {other:?} for\n{svg}"),
        }
    }

    /// Asserts the position and that the reason contains `words`.
    fn assert_refused(svg: &str, line: u64, column: u64, words: &str) {
        let (l, c, reason) = refused(svg);
        assert_eq!((l, c), (line, column), "{reason}");
        assert!(reason.contains(words), "{reason:?} lacks {words:?}");
    }

    const OPEN: &str =
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">"#;

    #[test]
    fn accepts_a_clean_logo() {
        assert_eq!(check_svg(CLEAN_SVG.as_bytes()), Ok(()));
        let with_bom = [UTF8_BOM, CLEAN_SVG.as_bytes()].concat();
        assert_eq!(check_svg(&with_bom), Ok(()));
        assert_eq!(check_logo("logo.svg", &with_bom), Ok(ImageKind::Svg));
        assert_eq!(check_svg(format!("{OPEN}</svg>").as_bytes()), Ok(()));
        assert_eq!(
            check_svg(br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#),
            Ok(())
        );
        let prefixed = r#"<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:rect/></s:svg>"#;
        assert_eq!(check_svg(prefixed.as_bytes()), Ok(()));
    }

    #[test]
    fn refuses_script_with_its_position() {
        let svg = format!("{OPEN}\n  <rect/>\n  <script>alert(1)</script>\n</svg>");
        assert_eq!(
            check_svg(svg.as_bytes()),
            Err(LogoError::Svg {
                line: 3,
                column: 3,
                reason: "has a <script> element; SVG logos may not carry scripts".into()
            })
        );
        assert_eq!(
            check_svg(svg.as_bytes()).unwrap_err().to_string(),
            "at line 3, column 3 has a <script> element; SVG logos may not carry scripts"
        );
    }

    #[test]
    fn refuses_uppercase_and_prefixed_script() {
        assert_refused(
            &format!("{OPEN}\n  <SCRIPT>x</SCRIPT>\n</svg>"),
            2,
            3,
            "has a <SCRIPT> element",
        );
        assert_refused(
            "<svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\">\n <g>\n    <svg:script/>\n </g>\n</svg:svg>",
            3,
            5,
            "has a <svg:script> element",
        );
        assert_refused(
            &format!("{OPEN}<h:script xmlns:h=\"http://www.w3.org/1999/xhtml\"/></svg>"),
            1,
            84,
            "<h:script>",
        );
    }

    #[test]
    fn counts_columns_in_characters() {
        assert_refused(
            &format!("{OPEN}\n  <!--é€--><script/>\n</svg>"),
            2,
            12,
            "<script>",
        );
        let with_bom = format!("\u{feff}{OPEN}<script/></svg>");
        let (line, column, _) = refused(&with_bom);
        assert_eq!((line, column), (1, 84));
    }

    #[test]
    fn refuses_event_handlers() {
        assert_refused(
            &format!("{OPEN}\n  <g\n     onload=\"alert(1)\"/>\n</svg>"),
            3,
            6,
            "has the event handler attribute onload",
        );
        assert_refused(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" ONCLICK=\"x()\"/>",
            1,
            41,
            "ONCLICK",
        );
    }

    #[test]
    fn refuses_external_references() {
        assert_refused(
            &format!("{OPEN}\n  <use xlink:href=\"https://evil\"/>\n</svg>"),
            2,
            8,
            "has xlink:href=\"https://evil\", which points outside the logo",
        );
        assert_refused(
            &format!("{OPEN}\n  <image href=\"data:image/png;base64,AAAA\"/>\n</svg>"),
            2,
            3,
            "has an <image> element",
        );
        assert_refused(
            &format!("{OPEN}\n  <a href=\"javascript:alert(1)\"><rect/></a>\n</svg>"),
            2,
            6,
            "has href=\"javascript:alert(1)\"",
        );
        assert_refused(
            &format!("{OPEN}\n  <a href=\"&#106;avascript:x\"><rect/></a>\n</svg>"),
            2,
            6,
            "has href=\"javascript:x\"",
        );
        assert_refused(
            &format!("{OPEN}\n  <g xml:base=\"https://evil/\"><use href=\"#a\"/></g>\n</svg>"),
            2,
            6,
            "xml:base",
        );
    }

    #[test]
    fn refuses_foreign_object() {
        assert_refused(
            &format!("{OPEN}\n  <foreignObject><div/></foreignObject>\n</svg>"),
            2,
            3,
            "has a <foreignObject> element; SVG logos may not embed HTML",
        );
        assert_refused(
            &format!(
                "{OPEN}\n<g>\n  <meta xmlns=\"http://www.w3.org/1999/xhtml\" http-equiv=\"refresh\"/>\n</g></svg>"
            ),
            3,
            3,
            "XHTML element <meta>",
        );
    }

    #[test]
    fn refuses_doctype_and_entities() {
        let svg = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg [\n  <!ENTITY x \"y\">\n]>\n<svg xmlns=\"http://www.w3.org/2000/svg\">&x;</svg>";
        assert_refused(svg, 2, 1, "has a <!DOCTYPE> that declares entities");
        assert_refused(
            "<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            1,
            1,
            "has a <!DOCTYPE>",
        );
        assert_refused(
            &format!("{OPEN}\n  <text>&x;</text>\n</svg>"),
            2,
            9,
            "undefined entity &x;",
        );
    }

    #[test]
    fn refuses_urls_in_style_attributes() {
        assert_refused(
            &format!("{OPEN}\n  <rect style=\"background:url(https://x)\"/>\n</svg>"),
            2,
            9,
            "has url(https://x) in its style attribute",
        );
        assert_refused(
            &format!("{OPEN}\n  <rect fill=\"URL( https://x )\"/>\n</svg>"),
            2,
            9,
            "in its fill attribute",
        );
        assert_refused(
            &format!("{OPEN}\n  <rect style=\"fill:\\75 rl(x)\"/>\n</svg>"),
            2,
            9,
            "has a backslash",
        );
        assert_refused(
            &format!("{OPEN}\n  <rect style=\"background:image-set('x.png' 1x)\"/>\n</svg>"),
            2,
            9,
            "image-set('x.png' 1x)",
        );
    }

    #[test]
    fn refuses_imports_and_urls_in_style_elements() {
        assert_refused(
            &format!("{OPEN}\n  <style>@import url(x)</style>\n</svg>"),
            2,
            10,
            "has @import in a <style> element",
        );
        // Spelled with a character reference, reported at the reference.
        assert_refused(
            &format!("{OPEN}\n  <style>a{{}} @imp&#111;rt 'x';</style>\n</svg>"),
            2,
            14,
            "@import",
        );
        assert_refused(
            &format!("{OPEN}\n<style><![CDATA[\n.a {{ fill: url(http://x) }}\n]]></style>\n</svg>"),
            3,
            12,
            "has url(http://x) in a <style> element",
        );
        assert_refused(
            &format!("{OPEN}\n<style>.a {{ background: url(\"https://x\") }}</style>\n</svg>"),
            2,
            25,
            "url(\"https://x\")",
        );
    }

    #[test]
    fn refuses_split_or_spaced_out_tricks() {
        // An XML comment splits the text node but not the CSS the browser sees.
        assert_refused(
            &format!("{OPEN}\n  <style>@im<!-- -->port 'x';</style>\n</svg>"),
            2,
            10,
            "has @import in a <style> element",
        );
        // URL parsers drop tabs, so "java\tscript:" is still a script URL.
        assert_refused(
            &format!(
                "{OPEN}\n  <rect><set attributeName=\"fill\" to=\"java&#9;script:x\"/></rect>\n</svg>"
            ),
            2,
            35,
            "has a script URL in its to attribute",
        );
    }

    #[test]
    fn refuses_animating_links_and_handlers() {
        assert_refused(
            &format!(
                "{OPEN}\n  <a href=\"#x\"><set attributeName=\"href\" to=\"https://evil\"/></a>\n</svg>"
            ),
            2,
            21,
            "animates the href attribute",
        );
        assert_refused(
            &format!("{OPEN}\n  <animate attributeName=\"xlink:href\" values=\"#a;#b\"/>\n</svg>"),
            2,
            12,
            "animates the xlink:href attribute",
        );
        assert_refused(
            &format!("{OPEN}\n  <animateTransform attributeName=\"onbegin\"/>\n</svg>"),
            2,
            21,
            "animates the onbegin attribute",
        );
    }

    #[test]
    fn refuses_processing_instructions() {
        assert_refused(
            "<?xml version=\"1.0\"?>\n<?xml-stylesheet href=\"x.css\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            2,
            1,
            "processing instruction <?xml-stylesheet?>",
        );
        assert_refused(
            "\n<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            2,
            1,
            "XML declaration",
        );
    }

    #[test]
    fn refuses_broken_xml() {
        let (line, column, reason) = refused(&format!("{OPEN}\n  <g>\n</svg>"));
        assert_eq!((line, column), (3, 1), "{reason}");
        assert!(reason.starts_with("is not well-formed XML"), "{reason}");
        assert_refused(
            &format!("{OPEN}\n  <rect width=10/>\n</svg>"),
            2,
            15,
            "is not well-formed XML: an attribute value is not in quotes",
        );
        assert_refused(
            &format!("{OPEN}\n  <rect x=\"1\" x=\"2\"/>\n</svg>"),
            2,
            15,
            "the same attribute is given twice",
        );
        assert_refused(
            &format!("{OPEN}\n  <g>\n"),
            3,
            1,
            "ends before its <svg> element is closed",
        );
        assert_refused("", 1, 1, "has no <svg> element");
        let (line, column, reason) =
            refused("<svg xmlns=\"http://www.w3.org/2000/svg\">\n  <\u{1}");
        assert!(reason.starts_with("is not well-formed XML"), "{reason}");
        assert_eq!(line, 2, "{column} {reason}");
    }

    #[test]
    fn refuses_invalid_utf8() {
        let mut bytes = format!("{OPEN}\n  <text>ab").into_bytes();
        bytes.extend_from_slice(b"\xff</text></svg>");
        assert_eq!(
            check_svg(&bytes),
            Err(LogoError::Svg {
                line: 2,
                column: 11,
                reason: "is not valid UTF-8 text; save the SVG as UTF-8".into()
            })
        );
    }

    #[test]
    fn refuses_non_svg_roots_and_stray_content() {
        assert_refused(
            "<html xmlns=\"http://www.w3.org/1999/xhtml\"><svg/></html>",
            1,
            1,
            "starts with <html> instead of <svg>",
        );
        assert_refused(
            "<!-- x -->\n <svg/>",
            2,
            2,
            "has a root <svg> element that is not in the SVG namespace",
        );
        assert_refused(
            &format!("{OPEN}</svg>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            2,
            1,
            "after the end of the <svg> element",
        );
        assert_refused(
            &format!("hello {OPEN}</svg>"),
            1,
            1,
            "has text before the <svg>",
        );
        assert_refused(
            &format!("{OPEN}</svg>\n  x"),
            2,
            3,
            "has text after the end",
        );
    }
}
