//! JavaScript projects: componentize-js (StarlingMonkey) over `app.js`,
//! every WASI feature disabled, so the component imports weir's host
//! services only and needs no WASI grant.

use std::path::Path;
use std::process::Command;

use anyhow::bail;

use super::super::project::Project;
use super::super::tools;

pub(super) fn build(project: &Project, out: &Path) -> anyhow::Result<()> {
    let app = project.dir.join("app.js");
    if !app.is_file() {
        bail!(
            "a JavaScript plugin project needs `app.js` in `{}`",
            project.dir.display()
        );
    }
    let componentize = tools::componentize_js()?;
    let wit = super::wit_dir()?;
    let tmp = super::staging(out);
    tools::step(
        "componentize-js: the JavaScript engine and the plugin into one component (about 10 s)",
    );
    // It runs from the project's root (`[build] root`, else the project):
    // every module app.js imports must be under it, and stack traces name
    // files relative to it.
    tools::run(
        Command::new(&componentize)
            .current_dir(&project.root)
            .arg(&app)
            .arg("--wit")
            .arg(&wit)
            .args(["--world-name", project.kind.world()])
            .args([
                "--disable",
                "stdio",
                "random",
                "clocks",
                "http",
                "fetch-event",
            ])
            .arg("-o")
            .arg(&tmp),
        "componentize-js",
    )?;
    super::publish(out)
}
