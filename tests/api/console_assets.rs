//! The console's built files (`src/console/web/dist/`, embedded in the binary)
//! are there, match their sources, and are served with their content types.
//! When this fails after a change under `src/console/web/`, rebuild them:
//! `cd src/console/web && npm ci && npm run build`.

use std::path::{Path, PathBuf};

use crate::helpers::TestServer;
use sha2::{Digest, Sha256};

fn web() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/web")
}

/// Every source file of the console, as `scripts/stamp.mjs` lists them: all
/// files under `web/` but `node_modules/` and `dist/`, by `/`-separated path.
fn sources(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let kind = entry.file_type().unwrap();
        if kind.is_dir() && name != "node_modules" && name != "dist" {
            sources(&entry.path(), &rel, out);
        } else if kind.is_file() {
            out.push(rel);
        }
    }
}

/// The hash `scripts/stamp.mjs` writes into `dist/source.sha256` at each build.
fn source_hash() -> String {
    let mut files = Vec::new();
    sources(&web(), "", &mut files);
    files.sort();
    let listing: String = files
        .iter()
        .map(|rel| {
            let bytes = std::fs::read(web().join(rel)).unwrap();
            format!("{rel}\n{}\n", hex::encode(Sha256::digest(&bytes)))
        })
        .collect();
    hex::encode(Sha256::digest(listing.as_bytes()))
}

/// The `/console/assets/...` files `index.html` loads.
fn referenced_assets(index: &str) -> Vec<String> {
    index
        .split(['"', '\''])
        .filter(|part| part.starts_with("/console/assets/"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_built_console_is_there_and_matches_its_sources() {
    let dist = web().join("dist");
    let rebuild = "rebuild it: `cd src/console/web && npm ci && npm run build`, and commit dist/";
    let index = std::fs::read_to_string(dist.join("index.html"))
        .unwrap_or_else(|e| panic!("src/console/web/dist/index.html is missing ({e}): {rebuild}"));
    let assets = referenced_assets(&index);
    assert!(
        assets.iter().any(|a| a.ends_with(".js")),
        "index.html loads no script: {rebuild}"
    );
    for asset in &assets {
        let file = dist.join(asset.trim_start_matches("/console/"));
        assert!(file.is_file(), "{asset} is missing from dist/: {rebuild}");
    }
    let stamp = std::fs::read_to_string(dist.join("source.sha256"))
        .unwrap_or_else(|e| panic!("dist/source.sha256 is missing ({e}): {rebuild}"));
    assert_eq!(
        stamp.trim(),
        source_hash(),
        "src/console/web/dist/ was built from other sources than the ones here: {rebuild}"
    );
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_its_content_types() {
    let server = TestServer::start().await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| format!("http://{}{path}", server.addr);

    let bare = http.get(url("/console")).send().await.unwrap();
    assert_eq!(bare.status(), 308);
    assert_eq!(bare.headers()["location"], "/console/");

    let page = http.get(url("/console/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    let index = page.text().await.unwrap();
    // Nothing from elsewhere: every script and style is one of ours.
    assert!(
        !index.contains("http://") && !index.contains("https://"),
        "{index}"
    );

    let assets = referenced_assets(&index);
    assert!(!assets.is_empty(), "{index}");
    for asset in assets {
        let reply = http.get(url(&asset)).send().await.unwrap();
        assert_eq!(reply.status(), 200, "{asset}");
        let wanted = if asset.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if asset.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            panic!("an unexpected kind of asset: {asset}")
        };
        assert_eq!(reply.headers()["content-type"], wanted, "{asset}");
        assert!(reply.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"));
        assert!(!reply.bytes().await.unwrap().is_empty(), "{asset}");
    }

    let missing = http
        .get(url("/console/assets/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<serde_json::Value>().await.unwrap()["code"],
        "NOT_FOUND"
    );
}
