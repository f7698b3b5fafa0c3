//! Python projects: componentize-py, with the SDK copy in the tools
//! directory on the module path.

use std::path::Path;
use std::process::Command;

use anyhow::bail;

use super::super::project::Project;
use super::super::{sdk, tools};

pub(super) fn build(project: &Project, out: &Path) -> anyhow::Result<()> {
    let componentize = tools::componentize_py()?;
    let sdk_dir = sdk::install("python", sdk::PYTHON)?;
    let wit = super::wit_dir()?;
    if !project.dir.join("app.py").is_file() {
        bail!(
            "a Python plugin project needs `app.py` in `{}`",
            project.dir.display()
        );
    }
    let tmp = super::staging(out);
    tools::step(&format!(
        "componentize-py {}: the Python interpreter and the plugin into one component \
         (about 20 s)",
        tools::COMPONENTIZE_PY
    ));
    tools::run(
        Command::new(&componentize)
            .current_dir(&project.dir)
            .arg("-d")
            .arg(&wit)
            .args(["-w", project.kind.world(), "componentize", "-p"])
            .arg(&project.dir)
            .arg("-p")
            .arg(&sdk_dir)
            .arg("app")
            .arg("-o")
            .arg(&tmp),
        "componentize-py",
    )?;
    super::publish(out)
}
