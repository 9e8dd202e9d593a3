//! A tool call's `tool_input` normalized into a [`Tool`] by the tool's name, across every runtime's spelling.

use serde_json::{Map, Value};

use super::Tool;

fn path_field(input: &Map<String, Value>, tool: &str) -> Result<String, String> {
    for key in ["file_path", "notebook_path", "path", "absolute_path", "target_file", "filePath"] {
        if let Some(v) = input.get(key) {
            return v
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("`tool_input.{key}` of {tool} is not a string"));
        }
    }
    Err(format!("{tool} has no `tool_input.file_path`"))
}

pub(super) fn tool_from_input(tool_name: &str, input: &Map<String, Value>) -> Result<Tool, String> {
    let lower = tool_name.to_ascii_lowercase();
    let command = input.get("command").or_else(|| input.get("cmd"));
    let patch_text = input
        .get("input")
        .or_else(|| input.get("patch"))
        .or(command)
        .and_then(Value::as_str)
        .filter(|s| s.trim_start().starts_with("*** Begin Patch"));
    match lower.as_str() {
        "bash" | "powershell" | "exec" | "shell" | "run_shell_command" | "local_shell" | "shell_command"
        | "terminal" => match command {
            Some(Value::String(s)) => Ok(Tool::Shell(s.clone())),
            Some(Value::Array(items)) => {
                let argv: Option<Vec<String>> = items.iter().map(|v| v.as_str().map(str::to_owned)).collect();
                let argv =
                    argv.ok_or_else(|| format!("`tool_input.command` of {tool_name} has a non-string item"))?;
                if argv.is_empty() {
                    return Err(format!("`tool_input.command` of {tool_name} is empty"));
                }
                Ok(Tool::Argv(argv))
            }
            Some(_) => Err(format!("`tool_input.command` of {tool_name} is not a string")),
            None => Err(format!("{tool_name} has no `tool_input.command`")),
        },
        "apply_patch" => {
            let text = input
                .get("input")
                .or_else(|| input.get("patch"))
                .or(command)
                .and_then(Value::as_str)
                .ok_or_else(|| "apply_patch has no patch text in `tool_input.command`".to_owned())?;
            Ok(Tool::Patch(text.to_owned()))
        }
        _ if patch_text.is_some() => Ok(Tool::Patch(patch_text.unwrap_or_default().to_owned())),
        "write"
        | "edit"
        | "multiedit"
        | "notebookedit"
        | "write_file"
        | "replace"
        | "str_replace"
        | "strreplace"
        | "str_replace_based_edit_tool"
        | "create"
        | "edit_file"
        | "delete"
        | "delete_file"
        | "create_file" => Ok(Tool::Write(vec![path_field(input, tool_name)?])),
        "read" | "read_file" | "view" | "view_file" => Ok(Tool::Read(vec![path_field(input, tool_name)?])),
        "read_many_files" => {
            let paths = input
                .get("paths")
                .and_then(Value::as_array)
                .ok_or_else(|| "read_many_files has no `tool_input.paths`".to_owned())?;
            let paths: Option<Vec<String>> = paths.iter().map(|v| v.as_str().map(str::to_owned)).collect();
            Ok(Tool::Read(paths.ok_or_else(|| "`tool_input.paths` has a non-string item".to_owned())?))
        }
        "grep"
        | "glob"
        | "search_file_content"
        | "list_directory"
        | "ls"
        | "search"
        | "codebase_search"
        | "grep_search" => {
            let paths = ["path", "dir_path", "directory"]
                .iter()
                .filter_map(|k| input.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            let mut globs: Vec<String> = ["glob", "include", "file_pattern"]
                .iter()
                .filter_map(|k| input.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            if lower == "glob" {
                // The Glob tool lists names; it reads no content, so its pattern is not a read.
                globs.clear();
            }
            Ok(Tool::Search { paths, globs })
        }
        _ => Ok(Tool::Other(path_like_fields(&Value::Object(input.clone())))),
    }
}

/// String values under keys that name paths or files, one level deep (an unknown tool's likely targets).
pub(super) fn path_like_fields(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(o) = v.as_object() {
        for (k, val) in o {
            let key = k.to_ascii_lowercase();
            let pathish =
                key.contains("path") || key.contains("file") || key == "target" || key == "destination";
            match val {
                Value::String(s) if pathish => out.push(s.clone()),
                Value::Array(items) if pathish => {
                    out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                }
                _ => {}
            }
        }
    }
    out
}
