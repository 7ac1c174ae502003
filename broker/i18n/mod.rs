//! The pages' words: Fluent message catalogs (<https://projectfluent.org>), the choice of a
//! language for a request, and [`Msg`], the message a service hands to the page to say.
//!
//! The catalogs ship in the binary (`broker/i18n/catalogs/<locale>/*.ftl`); an operator's
//! folder (`i18n.messages` in the policy) adds languages and overrides messages. The language
//! of a page is the first of the OIDC `ui_locales` parameter (OIDC Core §3.1.2.1), then the
//! browser's `Accept-Language` (RFC 9110 §12.5.4), then the policy's default, that has a
//! catalog. A message missing from a catalog falls back to the default's, then to English.
//!
//! Pure: nothing here reads a file except [`Catalogs::load`], which the policy's validation
//! calls once per load.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

macro_rules! catalog_files {
    ($locale:literal) => {
        [
            (
                concat!($locale, "/pages.ftl"),
                include_str!(concat!("catalogs/", $locale, "/pages.ftl")),
            ),
            (
                concat!($locale, "/console.ftl"),
                include_str!(concat!("catalogs/", $locale, "/console.ftl")),
            ),
            (
                concat!($locale, "/reset.ftl"),
                include_str!(concat!("catalogs/", $locale, "/reset.ftl")),
            ),
            (
                concat!($locale, "/mfa.ftl"),
                include_str!(concat!("catalogs/", $locale, "/mfa.ftl")),
            ),
            (
                concat!($locale, "/passkeys.ftl"),
                include_str!(concat!("catalogs/", $locale, "/passkeys.ftl")),
            ),
        ]
    };
}

/// The catalogs shipped in the binary: locale, then its files (name, text). English first: it
/// is the reference every other catalog must match key for key.
pub const SHIPPED: &[(&str, &[(&str, &str)])] = &[
    ("en", &catalog_files!("en")),
    ("de", &catalog_files!("de")),
    ("fr", &catalog_files!("fr")),
    ("es", &catalog_files!("es")),
    ("cs", &catalog_files!("cs")),
    ("nl", &catalog_files!("nl")),
];

/// The most an operator's catalog file may hold.
const MAX_CATALOG_BYTES: u64 = 512 * 1024;
/// The most languages an operator's folder may add.
const MAX_CATALOG_FILES: usize = 64;
/// `Accept-Language` entries looked at: a browser sends a handful; more is noise or abuse.
const MAX_REQUESTED: usize = 16;
/// Bytes of `Accept-Language` or `ui_locales` looked at.
const MAX_HEADER_BYTES: usize = 1024;

/// Something a page says: a message id of the catalogs and its arguments. Services return
/// these instead of text, so the page says it in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub id: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Msg {
    pub const fn new(id: &'static str) -> Msg {
        Msg {
            id,
            args: Vec::new(),
        }
    }

    /// The message with one more argument (`{ $name }` in the catalogs).
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Msg {
        self.args.push((name, value.into()));
        self
    }

    /// The message in English, for answers that are not pages (JSON error descriptions, logs).
    pub fn english(&self) -> String {
        ENGLISH.lang().msg(self)
    }
}

impl From<&'static str> for Msg {
    fn from(id: &'static str) -> Msg {
        Msg::new(id)
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

/// The shipped catalogs alone, English by default: parsed once per process.
static ENGLISH: LazyLock<Arc<Catalogs>> = LazyLock::new(|| Arc::new(Catalogs::shipped()));

/// The shipped catalogs with English as the default, parsed once and shared: for a policy
/// without `i18n`, and for text outside a page request.
pub fn shipped() -> Arc<Catalogs> {
    Arc::clone(&ENGLISH)
}

/// A catalog problem, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {reason}")]
pub struct CatalogProblem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub reason: String,
}

struct Catalog {
    locale: LanguageIdentifier,
    tag: String,
    bundle: FluentBundle<FluentResource>,
}

/// Every language's messages, and the default.
pub struct Catalogs {
    catalogs: Vec<Catalog>,
    /// Index of the policy's default language.
    default: usize,
    /// The message ids English has: what a page may ask for.
    ids: BTreeSet<String>,
}

impl fmt::Debug for Catalogs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalogs")
            .field("locales", &self.locales().collect::<Vec<_>>())
            .field("default", &self.catalogs.get(self.default).map(|c| &c.tag))
            .finish()
    }
}

impl Catalogs {
    /// The shipped catalogs, English by default. The shipped files are checked by this
    /// module's tests; a file that failed to parse would leave its messages to English.
    pub fn shipped() -> Catalogs {
        let mut problems = Vec::new();
        let catalogs = shipped_catalogs(&mut problems);
        for p in &problems {
            tracing::error!(problem = %p, "a shipped catalog does not parse");
        }
        let ids = ids_of(&catalogs[..1]);
        Catalogs {
            catalogs,
            default: 0,
            ids,
        }
    }

    /// The shipped catalogs, with an operator's folder of `<locale>.ftl` files over them
    /// (overriding messages, or adding a language), and `default` as the default language.
    /// Every problem is returned, each located in its file.
    pub fn load(default: &str, folder: Option<&Path>) -> Result<Catalogs, Vec<CatalogProblem>> {
        let mut problems = Vec::new();
        let mut catalogs = shipped_catalogs(&mut problems);
        let ids = ids_of(&catalogs[..1]);
        if let Some(folder) = folder {
            load_folder(folder, &ids, &mut catalogs, &mut problems);
        }
        let default_locale = default.parse::<LanguageIdentifier>().ok();
        let default_index = default_locale
            .as_ref()
            .and_then(|d| catalogs.iter().position(|c| &c.locale == d));
        let Some(default_index) = default_index else {
            problems.push(CatalogProblem {
                file: String::new(),
                line: 0,
                column: 0,
                reason: format!(
                    "no catalog for the default language {default:?}; the languages are {}",
                    catalogs
                        .iter()
                        .map(|c| c.tag.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Catalogs {
            catalogs,
            default: default_index,
            ids,
        })
    }

    /// The languages, as BCP 47 tags.
    pub fn locales(&self) -> impl Iterator<Item = &str> {
        self.catalogs.iter().map(|c| c.tag.as_str())
    }

    /// The message ids a page may use (English's).
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.ids.iter().map(String::as_str)
    }

    /// The default language.
    pub fn lang(self: &Arc<Self>) -> Lang {
        Lang {
            catalogs: Arc::clone(self),
            index: self.default,
        }
    }

    /// The language of a page: the first of `ui_locales` (space-separated tags), then
    /// `accept_language` (by weight), that has a catalog; else the default.
    pub fn negotiate(
        self: &Arc<Self>,
        ui_locales: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        let mut requested = ui_locales.map(parse_ui_locales).unwrap_or_default();
        requested.extend(
            accept_language
                .map(parse_accept_language)
                .unwrap_or_default(),
        );
        requested.truncate(2 * MAX_REQUESTED);
        let available: Vec<&LanguageIdentifier> = self.catalogs.iter().map(|c| &c.locale).collect();
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        let index = chosen
            .first()
            .and_then(|l| self.catalogs.iter().position(|c| c.locale == ***l))
            .unwrap_or(self.default);
        Lang {
            catalogs: Arc::clone(self),
            index,
        }
    }

    /// The language with this exact tag, if there is a catalog for it.
    pub fn exactly(self: &Arc<Self>, tag: &str) -> Option<Lang> {
        let index = self.catalogs.iter().position(|c| c.tag == tag)?;
        Some(Lang {
            catalogs: Arc::clone(self),
            index,
        })
    }
}

/// One language of the catalogs: formats messages for a page.
#[derive(Clone)]
pub struct Lang {
    catalogs: Arc<Catalogs>,
    index: usize,
}

impl fmt::Debug for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>`.
    pub fn tag(&self) -> &str {
        self.catalogs
            .catalogs
            .get(self.index)
            .map(|c| c.tag.as_str())
            .unwrap_or("en")
    }

    /// The message `id` without arguments.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), FluentValue::from(value.to_owned()));
        self.format(id, Some(&args))
    }

    /// The message `id` with two arguments.
    pub fn t2(&self, id: &str, name: &str, value: &str, name2: &str, value2: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), FluentValue::from(value.to_owned()));
        args.set(name2.to_owned(), FluentValue::from(value2.to_owned()));
        self.format(id, Some(&args))
    }

    /// A service's message.
    pub fn msg(&self, m: &Msg) -> String {
        if m.args.is_empty() {
            return self.format(m.id, None);
        }
        let mut args = FluentArgs::new();
        for (name, value) in &m.args {
            args.set(*name, FluentValue::from(value.clone()));
        }
        self.format(m.id, Some(&args))
    }

    /// A moment as this language writes a date and time, in UTC (`date-time` in the
    /// catalogs); "unknown" in words when it is out of range.
    pub fn date_time(&self, unix: u64) -> String {
        let Some(at) = i64::try_from(unix)
            .ok()
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        else {
            return self.t("date-unknown");
        };
        let mut args = FluentArgs::new();
        args.set("year", FluentValue::from(at.year().to_string()));
        args.set("month", FluentValue::from(u8::from(at.month())));
        args.set("day", FluentValue::from(at.day().to_string()));
        args.set("hour", FluentValue::from(format!("{:02}", at.hour())));
        args.set("minute", FluentValue::from(format!("{:02}", at.minute())));
        self.format("date-time", Some(&args))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let all = &self.catalogs.catalogs;
        let order = [Some(self.index), Some(self.catalogs.default), Some(0)];
        for bundle in order
            .into_iter()
            .flatten()
            .filter_map(|i| all.get(i))
            .map(|c| &c.bundle)
        {
            let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text: Cow<'_, str> = bundle.format_pattern(pattern, args, &mut errors);
            return text.into_owned();
        }
        // Only a page asking for an id no catalog has gets here; the tests render every page
        // in every language and look for ids.
        id.to_owned()
    }
}

fn new_bundle(locale: &LanguageIdentifier) -> FluentBundle<FluentResource> {
    let mut bundle = FluentBundle::new_concurrent(vec![locale.clone()]);
    // No Unicode isolation marks around arguments: none of the languages is right-to-left, and
    // the marks would end up inside the pages' text and attributes.
    bundle.set_use_isolating(false);
    bundle
}

fn shipped_catalogs(problems: &mut Vec<CatalogProblem>) -> Vec<Catalog> {
    let mut catalogs = Vec::with_capacity(SHIPPED.len());
    for (tag, files) in SHIPPED {
        let Ok(locale) = tag.parse::<LanguageIdentifier>() else {
            continue;
        };
        let mut bundle = new_bundle(&locale);
        for (file, text) in *files {
            if let Some(resource) = parse(file, text, problems) {
                // A duplicate id across files is a mistake in the shipped files; the tests
                // check that none is.
                let _ = bundle.add_resource(resource);
            }
        }
        catalogs.push(Catalog {
            locale,
            tag: (*tag).to_owned(),
            bundle,
        });
    }
    catalogs
}

fn ids_of(catalogs: &[Catalog]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for c in catalogs {
        for (tag, files) in SHIPPED {
            if *tag != c.tag {
                continue;
            }
            for (_, text) in *files {
                ids.extend(message_ids(text));
            }
        }
    }
    ids
}

/// The ids of a catalog text's messages (terms, `-name`, are not messages).
pub fn message_ids(text: &str) -> Vec<String> {
    let resource = match FluentResource::try_new(text.to_owned()) {
        Ok(r) | Err((r, _)) => r,
    };
    resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

fn parse(file: &str, text: &str, problems: &mut Vec<CatalogProblem>) -> Option<FluentResource> {
    match FluentResource::try_new(text.to_owned()) {
        Ok(r) => Some(r),
        Err((_, errors)) => {
            for e in errors {
                let (line, column) = line_column(text, e.pos.start);
                problems.push(CatalogProblem {
                    file: file.to_owned(),
                    line,
                    column,
                    reason: format!("not valid Fluent: {}", e.kind),
                });
            }
            None
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn load_folder(
    folder: &Path,
    ids: &BTreeSet<String>,
    catalogs: &mut Vec<Catalog>,
    problems: &mut Vec<CatalogProblem>,
) {
    let here = |reason: String| CatalogProblem {
        file: folder.display().to_string(),
        line: 0,
        column: 0,
        reason,
    };
    let entries = match std::fs::read_dir(folder) {
        Ok(e) => e,
        Err(e) => {
            problems.push(here(format!("cannot read the folder: {e}")));
            return;
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
        .collect();
    files.sort();
    if files.len() > MAX_CATALOG_FILES {
        problems.push(here(format!(
            "holds {} catalogs; at most {MAX_CATALOG_FILES} are read",
            files.len()
        )));
        return;
    }
    for path in files {
        let file = path.display().to_string();
        let problem = |reason: String| CatalogProblem {
            file: file.clone(),
            line: 1,
            column: 1,
            reason,
        };
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let Ok(locale) = stem.parse::<LanguageIdentifier>() else {
            problems.push(problem(format!(
                "{stem:?} is not a language tag; name the file after its language, e.g. de.ftl or pt-BR.ftl"
            )));
            continue;
        };
        match std::fs::metadata(&path) {
            Ok(m) if m.len() > MAX_CATALOG_BYTES => {
                problems.push(problem(format!(
                    "is {} bytes; a catalog may be at most {MAX_CATALOG_BYTES}",
                    m.len()
                )));
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                problems.push(problem(format!("cannot be read: {e}")));
                continue;
            }
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(problem(format!("cannot be read: {e}")));
                continue;
            }
        };
        let before = problems.len();
        for id in unknown_ids(&text, ids) {
            let offset = text
                .find(&format!("{id} ="))
                .or_else(|| text.find(&id))
                .unwrap_or(0);
            let (line, column) = line_column(&text, offset);
            problems.push(CatalogProblem {
                file: file.clone(),
                line,
                column,
                reason: format!("{id:?} is not a message of any page; check its spelling against the English catalog"),
            });
        }
        let Some(resource) = parse(&file, &text, problems) else {
            continue;
        };
        if problems.len() > before {
            continue;
        }
        match catalogs.iter_mut().find(|c| c.locale == locale) {
            Some(c) => c.bundle.add_resource_overriding(resource),
            None => {
                let mut bundle = new_bundle(&locale);
                bundle.add_resource_overriding(resource);
                catalogs.push(Catalog {
                    tag: locale.to_string(),
                    locale,
                    bundle,
                });
            }
        }
    }
}

fn unknown_ids(text: &str, ids: &BTreeSet<String>) -> Vec<String> {
    message_ids(text)
        .into_iter()
        .filter(|id| !ids.contains(id))
        .collect()
}

/// `ui_locales`: space-separated BCP 47 tags in order of preference (OIDC Core §3.1.2.1).
fn parse_ui_locales(text: &str) -> Vec<LanguageIdentifier> {
    bounded(text)
        .split_ascii_whitespace()
        .take(MAX_REQUESTED)
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// `Accept-Language` (RFC 9110 §12.5.4): tags by descending weight, ties in order; `q=0`
/// means "not this one", `*` adds nothing (the default comes last anyway).
fn parse_accept_language(text: &str) -> Vec<LanguageIdentifier> {
    let mut weighted: Vec<(u16, LanguageIdentifier)> = bounded(text)
        .split(',')
        .take(MAX_REQUESTED)
        .filter_map(|item| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1000), quality)?;
            if q == 0 || tag == "*" {
                return None;
            }
            Some((q, tag.parse().ok()?))
        })
        .collect();
    weighted.sort_by_key(|w| std::cmp::Reverse(w.0));
    weighted.into_iter().map(|(_, l)| l).collect()
}

/// A weight (`0`, `0.5`, `1.000`) in thousandths; `None` when it is not one.
fn quality(text: &str) -> Option<u16> {
    let value: f32 = text.trim().parse().ok()?;
    if !(0.0..=1.0).contains(&value) {
        return None;
    }
    // In range 0..=1000 by the check above.
    Some((value * 1000.0).round() as u16)
}

fn bounded(text: &str) -> &str {
    let mut end = text.len().min(MAX_HEADER_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests;
