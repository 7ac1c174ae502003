//! `branding` (the broker's), `clients[].branding`, `organizations[].branding` and `i18n`.
//!
//! Logos are files in the `branding.assets` folder, read here once per load, checked by
//! [`crate::branding`] (size, kind, an SVG that could run or fetch anything is refused) and
//! held in memory; colours are checked for contrast in light and dark mode.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_saphyr::Spanned;

use super::{Validator, at};
use crate::branding::{self, Accent, Color, LogoError};
use crate::i18n::Catalogs;
use crate::policy::raw::{RawBrand, RawBranding, RawI18n, Text};
use crate::policy::{Asset, Branding, DEFAULT_PRODUCT_NAME, FooterLinks, OrgBranding};

/// The longest product name: it is a heading, not a paragraph.
const MAX_PRODUCT_NAME_CHARS: usize = 64;

/// The logos read so far in this load, and the folder they come from.
#[derive(Default)]
pub(super) struct Assets {
    folder: Option<PathBuf>,
    /// By file name as written: a logo named twice is read once.
    by_file: HashMap<String, Arc<Asset>>,
    /// By served name.
    served: HashMap<String, Arc<Asset>>,
}

impl Assets {
    /// Every asset, by the name it is served under.
    pub(super) fn into_served(self) -> HashMap<String, Arc<Asset>> {
        self.served
    }

    fn keep(&mut self, asset: Asset) -> Arc<Asset> {
        let asset = Arc::new(asset);
        self.served
            .entry(asset.name.clone())
            .or_insert_with(|| Arc::clone(&asset))
            .clone()
    }
}

impl Validator<'_> {
    /// `branding`: read before the clients and organisations, whose logos come from its
    /// `assets` folder.
    pub(super) fn branding(&mut self, raw: Option<&Spanned<RawBranding>>) -> Branding {
        let Some(raw) = raw else {
            return Branding::default();
        };
        let b = &raw.value;
        if let Some(t) = &b.assets {
            self.assets.folder = self.path_value(t, "branding.assets");
            if let Some(folder) = &self.assets.folder
                && !folder.is_dir()
            {
                self.add(
                    at(t),
                    "branding.assets",
                    format!("{:?} is not a folder", folder.display().to_string()),
                );
                self.assets.folder = None;
            }
        }
        let product_name = match &b.product_name {
            None => DEFAULT_PRODUCT_NAME.to_owned(),
            Some(t) => self
                .check(t, "branding.product_name", |s| {
                    let s = s.trim();
                    if s.is_empty() || s.chars().count() > MAX_PRODUCT_NAME_CHARS {
                        Err(format!("must be 1 to {MAX_PRODUCT_NAME_CHARS} characters"))
                    } else if s.chars().any(char::is_control) {
                        Err("must not hold control characters".to_owned())
                    } else {
                        Ok(s.to_owned())
                    }
                })
                .unwrap_or_default(),
        };
        let logo = b.logo.as_ref().and_then(|t| self.logo(t, "branding.logo"));
        let favicon = b
            .favicon
            .as_ref()
            .and_then(|t| self.logo(t, "branding.favicon"));
        let theme = self.theme(
            b.primary_color.as_ref(),
            b.primary_color_dark.as_ref(),
            "branding",
        );
        let links = match &b.links {
            None => FooterLinks::default(),
            Some(l) => FooterLinks {
                privacy: l
                    .value
                    .privacy
                    .as_ref()
                    .and_then(|t| self.footer_link(t, "branding.links.privacy")),
                terms: l
                    .value
                    .terms
                    .as_ref()
                    .and_then(|t| self.footer_link(t, "branding.links.terms")),
                help: l
                    .value
                    .help
                    .as_ref()
                    .and_then(|t| self.footer_link(t, "branding.links.help")),
            },
        };
        let forgot_password = b
            .forgot_password
            .as_ref()
            .and_then(|t| self.footer_link(t, "branding.forgot_password"));
        Branding {
            product_name,
            logo,
            favicon,
            theme,
            links,
            forgot_password,
            assets: HashMap::new(),
        }
    }

    /// `clients[i].branding`: a logo (the application's name is the client's `name`).
    pub(super) fn client_logo(
        &mut self,
        path: &str,
        raw: Option<&Spanned<RawBrand>>,
    ) -> Option<Arc<Asset>> {
        let raw = raw?;
        for t in [&raw.value.primary_color, &raw.value.primary_color_dark]
            .into_iter()
            .flatten()
        {
            self.add(
                at(t),
                &format!("{path}.branding"),
                "a client has a logo only; colours belong to `branding` and to organisations",
            );
        }
        let t = raw.value.logo.as_ref()?;
        self.logo(t, &format!("{path}.branding.logo"))
    }

    /// `organizations[i].branding`: a logo and colours.
    pub(super) fn org_branding(
        &mut self,
        path: &str,
        raw: Option<&Spanned<RawBrand>>,
    ) -> OrgBranding {
        let Some(raw) = raw else {
            return OrgBranding::default();
        };
        let logo = raw
            .value
            .logo
            .as_ref()
            .and_then(|t| self.logo(t, &format!("{path}.branding.logo")));
        let theme = self.theme(
            raw.value.primary_color.as_ref(),
            raw.value.primary_color_dark.as_ref(),
            &format!("{path}.branding"),
        );
        OrgBranding { logo, theme }
    }

    /// `i18n`: the default language and the operator's catalogs.
    pub(super) fn i18n(&mut self, raw: Option<&Spanned<RawI18n>>) -> Arc<Catalogs> {
        let Some(raw) = raw else {
            return crate::i18n::shipped();
        };
        let default = raw.value.default_locale.as_ref();
        let folder = raw
            .value
            .messages
            .as_ref()
            .and_then(|t| self.path_value(t, "i18n.messages").map(|p| (t, p)));
        let tag = default.map_or("en", |t| t.value.as_str());
        match Catalogs::load(tag, folder.as_ref().map(|(_, p)| p.as_path())) {
            Ok(c) => Arc::new(c),
            Err(problems) => {
                for p in problems {
                    // A problem inside a catalog file is placed at `messages`, and names the
                    // file, line and column; the default language's, at `default_locale`.
                    let (anchor, key) = match (&folder, default) {
                        (Some((t, _)), _) if !p.file.is_empty() => (at(*t), "i18n.messages"),
                        (_, Some(t)) => (at(t), "i18n.default_locale"),
                        _ => (at(raw), "i18n"),
                    };
                    let reason = if p.file.is_empty() {
                        p.reason
                    } else {
                        p.to_string()
                    };
                    self.add(anchor, key, reason);
                }
                crate::i18n::shipped()
            }
        }
    }

    /// A logo or favicon file of the assets folder, read and checked once per load.
    fn logo(&mut self, t: &Text, path: &str) -> Option<Arc<Asset>> {
        let name = t.value.as_str();
        if let Some(asset) = self.assets.by_file.get(name) {
            return Some(Arc::clone(asset));
        }
        let Some(folder) = self.assets.folder.clone() else {
            self.add(
                at(t),
                path,
                "logos are files in the folder `branding.assets` names; set it",
            );
            return None;
        };
        let plain = Path::new(name)
            .file_name()
            .is_some_and(|f| f == std::ffi::OsStr::new(name));
        if !plain {
            self.add(
                at(t),
                path,
                format!("{name:?} must be a file name in the assets folder, without a folder"),
            );
            return None;
        }
        let file = folder.join(name);
        let bytes = match read_bounded(&file) {
            Ok(b) => b,
            Err(Read::Io(e)) => {
                self.add(
                    at(t),
                    path,
                    format!("cannot read {:?}: {e}", file.display().to_string()),
                );
                return None;
            }
            Err(Read::TooLarge(bytes)) => {
                self.add(
                    at(t),
                    path,
                    logo_problem(&file, &LogoError::TooLarge { bytes }),
                );
                return None;
            }
        };
        let kind = match branding::check_logo(name, &bytes) {
            Ok(k) => k,
            Err(e) => {
                self.add(at(t), path, logo_problem(&file, &e));
                return None;
            }
        };
        let asset = self.assets.keep(Asset {
            name: branding::asset_name(kind, &bytes),
            content_type: kind.content_type(),
            bytes: bytes.into(),
        });
        self.assets
            .by_file
            .insert(name.to_owned(), Arc::clone(&asset));
        Some(asset)
    }

    /// The theme of `primary_color` (light) and `primary_color_dark`, as a stylesheet.
    fn theme(
        &mut self,
        light: Option<&Text>,
        dark: Option<&Text>,
        path: &str,
    ) -> Option<Arc<Asset>> {
        if light.is_none() && dark.is_none() {
            return None;
        }
        let light = match light {
            Some(t) => self.check(t, &format!("{path}.primary_color"), |s| {
                Accent::check_light(Color::parse(s)?)
            })?,
            None => Accent::DEFAULT.light,
        };
        let dark = match dark {
            Some(t) => self.check(t, &format!("{path}.primary_color_dark"), |s| {
                Accent::check_dark(Color::parse(s)?)
            })?,
            None => Accent::derive_dark(light),
        };
        let css = Accent { light, dark }.css().into_bytes();
        let name = theme_name(&css);
        Some(self.assets.keep(Asset {
            name,
            content_type: "text/css; charset=utf-8",
            bytes: css.into(),
        }))
    }

    /// A footer or "Forgot password?" address: absolute https (http only on localhost).
    fn footer_link(&mut self, t: &Text, path: &str) -> Option<url::Url> {
        self.check(t, path, |s| {
            let url =
                url::Url::parse(s).map_err(|e| format!("{s:?} is not an absolute URL: {e}"))?;
            let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            match url.scheme() {
                "https" => Ok(url),
                "http" if local => Ok(url),
                _ => Err(format!("{s:?} must be an https URL")),
            }
        })
    }
}

/// `<first 16 hex digits of the SHA-256>.css`, as [`branding::asset_name`] names images.
fn theme_name(css: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(css);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.css")
}

fn logo_problem(file: &Path, e: &LogoError) -> String {
    let shown = file.display();
    match e {
        LogoError::Svg {
            line,
            column,
            reason,
        } => format!("{shown}:{line}:{column}: {reason}"),
        other => format!("{shown} {other}"),
    }
}

enum Read {
    Io(std::io::Error),
    TooLarge(usize),
}

/// Reads a file of at most [`branding::MAX_LOGO_BYTES`], without reading more of a bigger one.
fn read_bounded(file: &Path) -> Result<Vec<u8>, Read> {
    use std::io::Read as _;
    let f = std::fs::File::open(file).map_err(Read::Io)?;
    let limit = branding::MAX_LOGO_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    f.take(limit).read_to_end(&mut bytes).map_err(Read::Io)?;
    if bytes.len() > branding::MAX_LOGO_BYTES {
        let size = std::fs::metadata(file).map_or(bytes.len(), |m| m.len() as usize);
        return Err(Read::TooLarge(size));
    }
    Ok(bytes)
}
