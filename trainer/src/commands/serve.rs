//! `shoptrain serve`: the web demo, the wasm package and exported models on
//! 127.0.0.1, plus `/api/models` from the index.

use crate::registry::{ListFilter, Registry};
use anyhow::{Context, Result};
use std::path::{Component, Path, PathBuf};
use tiny_http::{Header, Response, Server};

fn header(name: &str, value: &str) -> Header {
    // both parts are ASCII literals or MIME names, which tiny_http accepts
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .unwrap_or_else(|_| unreachable!("ASCII header"))
}

/// Maps a URL path onto a file under `root`, refusing `..` and absolute parts.
pub fn resolve(root: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let mut out = root.to_path_buf();
    for c in Path::new(path.trim_start_matches('/')).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    Some(out)
}

pub fn content_type(path: &Path) -> String {
    match path.extension().and_then(|e| e.to_str()) {
        Some("wasm") => "application/wasm".into(),
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8".into(),
        Some("safetensors") => "application/octet-stream".into(),
        _ => mime_guess::from_path(path)
            .first_or_octet_stream()
            .to_string(),
    }
}

/// Where and how long to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub port: u16,
    /// The web-demo folder (with pkg/ and models/ inside).
    pub root: PathBuf,
    /// Serve a fixed number of requests, then exit (for tests).
    pub max_requests: Option<usize>,
}

pub fn run(models_dir: &Path, args: &ServeOptions) -> Result<()> {
    let addr = format!("127.0.0.1:{}", args.port);
    let server =
        Server::http(&addr).map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let root = args
        .root
        .canonicalize()
        .with_context(|| format!("web root {} not found", args.root.display()))?;
    println!("serving {} on http://{addr}/", root.display());
    for (n, request) in server.incoming_requests().enumerate() {
        let url = request.url().to_string();
        let response = if url == "/api/models" || url.starts_with("/api/models?") {
            match Registry::open(models_dir).and_then(|r| r.list(&ListFilter::default())) {
                Ok(rows) => Response::from_string(serde_json::to_string(&rows)?)
                    .with_header(header("Content-Type", "application/json")),
                Err(e) => Response::from_string(format!("{{\"error\": {:?}}}", format!("{e:#}")))
                    .with_status_code(500)
                    .with_header(header("Content-Type", "application/json")),
            }
        } else {
            match resolve(&root, &url).and_then(|p| std::fs::read(&p).ok().map(|b| (p, b))) {
                Some((path, bytes)) => Response::from_data(bytes)
                    .with_header(header("Content-Type", &content_type(&path)))
                    .with_header(header("Cache-Control", "no-cache")),
                None => Response::from_string("not found").with_status_code(404),
            }
        };
        // a client that hung up is not the server's problem
        let _ = request.respond(response);
        if args.max_requests.is_some_and(|m| n + 1 >= m) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal_and_types_wasm() {
        let root = Path::new("/srv/demo");
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(
            resolve(root, "/pkg/a.wasm?x=1"),
            Some(PathBuf::from("/srv/demo/pkg/a.wasm"))
        );
        assert_eq!(content_type(Path::new("a.wasm")), "application/wasm");
        assert!(content_type(Path::new("a.js")).starts_with("text/javascript"));
    }
}
