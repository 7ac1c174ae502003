//! The process's log output: text for people or JSON lines for log pipelines, on stderr.
//! Text has ANSI colours only when stderr is a terminal and `NO_COLOR` is not set
//! (<https://no-color.org>). Every line written while a request is handled carries its
//! request id (`request_id=…` in text, a `request_id` field in JSON), the id the answer's
//! `X-Request-Id` header gives the client.

use std::io::IsTerminal as _;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One line per event for people, colours only on a terminal.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `fields`, `request_id`).
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("{other:?} is not a log format; use text or json")),
        }
    }
}

/// Whether text may be coloured: stderr is a terminal and `NO_COLOR` is unset or empty.
pub fn colours_wanted(no_color: Option<&str>, terminal: bool) -> bool {
    terminal && no_color.is_none_or(str::is_empty)
}

/// Installs the process's subscriber: `RUST_LOG` (default `info`), `format`, stderr.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => {
            let ansi = colours_wanted(
                std::env::var("NO_COLOR").ok().as_deref(),
                std::io::stderr().is_terminal(),
            );
            let event = WithRequestId {
                inner: tracing_subscriber::fmt::format().with_ansi(ansi),
                json: false,
            };
            builder.with_ansi(ansi).event_format(event).init();
        }
        LogFormat::Json => {
            let event = WithRequestId {
                inner: tracing_subscriber::fmt::format().json().flatten_event(true),
                json: true,
            };
            builder
                .with_ansi(false)
                .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                .event_format(event)
                .init();
        }
    }
}

/// Puts the current request's id in front of each line (or as the first JSON field).
pub struct WithRequestId<F> {
    pub inner: F,
    pub json: bool,
}

impl<S, N, F> FormatEvent<S, N> for WithRequestId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let Some(id) = crate::request_id::current() else {
            return self.inner.format_event(ctx, writer, event);
        };
        if !self.json {
            write!(writer, "request_id={id} ")?;
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        // The id is checked to be [A-Za-z0-9-_.:] (or made here): nothing to escape.
        match line.strip_prefix('{') {
            Some(rest) => write!(writer, "{{\"request_id\":\"{id}\",{rest}"),
            None => writer.write_str(&line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours_wanted(None, true));
        assert!(colours_wanted(Some(""), true));
        assert!(!colours_wanted(Some("1"), true));
        assert!(!colours_wanted(None, false));
    }

    #[test]
    fn formats_are_named_text_and_json() {
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("text".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().is_err());
    }
}
