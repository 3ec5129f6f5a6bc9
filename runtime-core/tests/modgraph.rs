//! The module graph of runtime-core, read from the source: which module names which (`crate::`,
//! `super::`, `self::` and child-module paths, `use` groups expanded; test-only code left out).
//! Prints the graph and fails on a cycle between top-level modules, on a cycle between the
//! submodules of one directory module, and on an edge against the layers of docs/architecture.md.
//! Run it alone with `scripts/modgraph.sh`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Layers, lowest first. A module may name modules of lower layers, and modules of its own layer
/// as long as the graph stays acyclic; never a module of a higher layer.
const LAYERS: &[(&str, &[&str])] = &[
    // The only `unsafe`: thin syscall wrappers, `SysError` and errno texts; names nothing of hull.
    ("sys", &["sys"]),
    // Vocabulary: the error type, status, signals, typed stats, the option structs and stdio.
    ("base", &["error", "status", "signal", "stats", "stdio", "options", "hostfile", "spec"]),
    // Facts and inputs read from the host and the bundle, and the pure translators the plan uses
    // (seccomp compiler, cgroup resources -> writes); state files, hooks, the sealed exe.
    (
        "host",
        &[
            "bundle",
            "seccomp",
            "rootless",
            "cgroups",
            "host",
            "procfs",
            "passwd",
            "state",
            "hooks",
            "seal",
            "subreaper",
            "features",
        ],
    ),
    // Pure: (bundle, options, host facts) -> Plan.
    ("plan", &["plan"]),
    // Carrying a plan out: the root filesystem, the parent/child launch, the launch helper.
    ("exec", &["rootfs", "launch", "helper"]),
    // The public objects.
    ("api", &["container", "exec", "events", "console"]),
];

/// Pure modules: they name no `sys` and nothing that carries a plan out (they may use host facts
/// that lower modules detected, passed in as values).
const PURE: &[&str] = &["plan", "seccomp", "bundle", "spec", "options", "status", "stats"];
const IMPURE: &[&str] = &["sys", "rootfs", "launch", "helper", "container", "exec", "events", "console"];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Punct(&'static str),
    /// A string literal; the text only for plain `"..."` ones (`#[path = "x.rs"]`).
    Str(String),
}

/// Rust source -> tokens, without comments, literals' contents, lifetimes and numbers.
fn lex(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && raw_str_end(b, i + 1).is_some()
        {
            i = raw_str_end(b, i + 1).unwrap();
            out.push(Tok::Str(String::new()));
        } else if c == b'b' && b.get(i + 1) == Some(&b'"') {
            i = str_end(b, i + 1);
            out.push(Tok::Str(String::new()));
        } else if c == b'"' {
            let end = str_end(b, i);
            out.push(Tok::Str(src[i + 1..end - 1].to_string()));
            i = end;
        } else if c == b'\'' || (c == b'b' && b.get(i + 1) == Some(&b'\'')) {
            let s = if c == b'b' { i + 1 } else { i };
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            if b.get(s + 1) == Some(&b'\\') {
                let mut j = s + 2;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                i = j + 1;
            } else if b.get(s + 2) == Some(&b'\'') {
                i = s + 3;
            } else {
                // Multi-byte char literal or a lifetime.
                let mut j = s + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
                    j += 1;
                }
                i = if b.get(j) == Some(&b'\'') { j + 1 } else { j };
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(src[s..i].to_string()));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
        } else if b[i..].starts_with(b"::") {
            out.push(Tok::Punct("::"));
            i += 2;
        } else {
            const P: &[&str] = &["{", "}", "(", ")", "[", "]", ";", ",", "#", "$", "!", "=", "*"];
            if let Some(p) = P.iter().find(|p| p.as_bytes()[0] == c) {
                out.push(Tok::Punct(p));
            }
            i += 1;
        }
    }
    out
}

fn str_end(b: &[u8], open: usize) -> usize {
    let mut j = open + 1;
    while j < b.len() && b[j] != b'"' {
        if b[j] == b'\\' {
            j += 1;
        }
        j += 1;
    }
    j + 1
}

fn raw_str_end(b: &[u8], mut j: usize) -> Option<usize> {
    let mut hashes = 0;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    if b.get(j) != Some(&b'"') {
        return None;
    }
    let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
    let rest = &b[j + 1..];
    rest.windows(close.len()).position(|w| w == close.as_slice()).map(|p| j + 1 + p + close.len())
}

/// Drops items under `#[cfg(test)]` (and `cfg(all(test, ..))`); returns the kept tokens and the
/// names of `mod NAME;` declarations that were test-only (their files are left out), each with
/// whether it names a `#[path]` file (relative to the declaring file's directory).
fn strip_tests(toks: &[Tok]) -> (Vec<Tok>, BTreeSet<(String, bool)>) {
    let mut out = Vec::new();
    let mut test_mods = BTreeSet::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i] == Tok::Punct("#") && is_test_cfg(toks, i) {
            // Skip this and any further attributes, noting a `#[path = "file.rs"]`.
            let mut path_attr = None;
            while i < toks.len() && toks[i] == Tok::Punct("#") {
                let end = skip_group(toks, i + 1 + usize::from(toks.get(i + 1) == Some(&Tok::Punct("!"))));
                if let [_, Tok::Punct("["), Tok::Ident(p), Tok::Punct("="), Tok::Str(file), ..] = &toks[i..end] {
                    if p == "path" {
                        path_attr = Some(file.trim_end_matches(".rs").to_string());
                    }
                }
                i = end;
            }
            let start = i;
            let mut j = i;
            while matches!(toks.get(j), Some(Tok::Ident(k)) if k == "pub" ) || toks.get(j) == Some(&Tok::Punct("(")) {
                j = if toks[j] == Tok::Punct("(") { skip_group(toks, j) } else { j + 1 };
            }
            if let (Some(Tok::Ident(k)), Some(Tok::Ident(name)), Some(Tok::Punct(";"))) =
                (toks.get(j), toks.get(j + 1), toks.get(j + 2))
            {
                if k == "mod" {
                    test_mods.insert(match &path_attr {
                        Some(file) => (file.clone(), true),
                        None => (name.clone(), false),
                    });
                }
            }
            let is_use = matches!(toks.get(j), Some(Tok::Ident(k)) if k == "use");
            i = start;
            while i < toks.len() {
                match &toks[i] {
                    Tok::Punct(";") => {
                        i += 1;
                        break;
                    }
                    Tok::Punct("{") if !is_use => {
                        i = skip_group(toks, i);
                        // `struct S { .. }` or a fn body ends the item; a trailing `;` is harmless.
                        break;
                    }
                    Tok::Punct("{") | Tok::Punct("(") | Tok::Punct("[") => i = skip_group(toks, i),
                    _ => i += 1,
                }
            }
        } else {
            out.push(toks[i].clone());
            i += 1;
        }
    }
    (out, test_mods)
}

fn is_test_cfg(toks: &[Tok], i: usize) -> bool {
    let at = i + 1 + usize::from(toks.get(i + 1) == Some(&Tok::Punct("!")));
    if toks.get(at) != Some(&Tok::Punct("[")) || toks.get(at + 1) != Some(&Tok::Ident("cfg".into())) {
        return false;
    }
    let end = skip_group(toks, at);
    let inner = &toks[at..end];
    inner.contains(&Tok::Ident("test".into())) && !inner.contains(&Tok::Ident("not".into()))
}

/// From an opening bracket, the index after its matching close.
fn skip_group(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0i32;
    let mut j = open;
    while j < toks.len() {
        match toks[j] {
            Tok::Punct("{") | Tok::Punct("(") | Tok::Punct("[") => depth += 1,
            Tok::Punct("}") | Tok::Punct(")") | Tok::Punct("]") => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// A path or use tree starting at `i` (an identifier): every full path it names.
fn paths_at(toks: &[Tok], i: usize) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    tree(toks, i, Vec::new(), &mut out);
    out
}

fn tree(toks: &[Tok], mut i: usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    loop {
        match toks.get(i) {
            Some(Tok::Ident(s)) => {
                prefix.push(s.clone());
                i += 1;
                if toks.get(i) == Some(&Tok::Punct("::")) {
                    i += 1;
                    continue;
                }
                out.push(prefix);
                return i;
            }
            Some(Tok::Punct("{")) => {
                i += 1;
                loop {
                    match toks.get(i) {
                        Some(Tok::Punct("}")) | None => {
                            return i + 1;
                        }
                        Some(Tok::Punct(",")) => i += 1,
                        Some(Tok::Punct("*")) => {
                            out.push(prefix.clone());
                            i += 1;
                        }
                        _ => i = tree(toks, i, prefix.clone(), out),
                    }
                }
            }
            _ => {
                out.push(prefix);
                return i;
            }
        }
    }
}

/// One source file: its module path and the absolute paths it names.
struct Unit {
    module: Vec<String>,
    refs: Vec<Vec<String>>,
}

fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

fn collect(dir: &Path, root: &Path, units: &mut Vec<Unit>, excluded: &mut BTreeSet<Vec<String>>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, root, units, excluded);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let rel = p.strip_prefix(root).unwrap();
            let module = module_of(rel);
            let (toks, test_mods) = strip_tests(&lex(&fs::read_to_string(&p).unwrap()));
            for (m, by_path) in test_mods {
                let mut t: Vec<String> = if by_path {
                    rel.parent().into_iter().flat_map(|d| d.iter()).map(|c| c.to_string_lossy().into_owned()).collect()
                } else {
                    module.clone()
                };
                t.push(m);
                excluded.insert(t);
            }
            let refs = refs_of(&toks, &module);
            units.push(Unit { module, refs });
        }
    }
}

fn refs_of(toks: &[Tok], module: &[String]) -> Vec<Vec<String>> {
    let children: BTreeSet<String> = toks
        .windows(3)
        .filter_map(|w| match w {
            [Tok::Ident(m), Tok::Ident(n), Tok::Punct(";")] if m == "mod" => Some(n.clone()),
            _ => None,
        })
        .collect();
    let mut refs = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let Tok::Ident(first) = &toks[i] else {
            i += 1;
            continue;
        };
        let prev = i.checked_sub(1).map(|p| &toks[p]);
        // The middle of a longer path (`a::crate`) or `$crate` in a macro: not a path start.
        if matches!(prev, Some(Tok::Punct("::")) | Some(Tok::Punct("$"))) || toks.get(i + 1) != Some(&Tok::Punct("::"))
        {
            i += 1;
            continue;
        }
        let base: Option<Vec<String>> = match first.as_str() {
            "crate" => Some(Vec::new()),
            "self" => Some(module.to_vec()),
            "super" => {
                let mut m = module.to_vec();
                let mut j = i;
                while toks.get(j) == Some(&Tok::Ident("super".into())) && toks.get(j + 1) == Some(&Tok::Punct("::")) {
                    m.pop();
                    j += 2;
                }
                for p in paths_at(toks, j) {
                    refs.push(m.iter().cloned().chain(p).collect());
                }
                i = j;
                continue;
            }
            c if children.contains(c) => {
                for p in paths_at(toks, i) {
                    refs.push(module.iter().cloned().chain(p).collect());
                }
                i += 1;
                continue;
            }
            _ => None,
        };
        if let Some(base) = base {
            for p in paths_at(toks, i + 2) {
                refs.push(base.iter().cloned().chain(p).collect());
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    refs
}

/// The graph node of a path: its longest known module prefix, at most two levels deep.
fn node_of(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<String> {
    let upto = path.len().min(2);
    (1..=upto).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p)).map(|p| p.join("::"))
}

fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components; every component of more than one node is a cycle.
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        out: Vec<Vec<String>>,
    }
    fn visit(t: &mut T, v: &str) {
        let n = t.index.len();
        t.index.insert(v.into(), n);
        t.low.insert(v.into(), n);
        t.stack.push(v.into());
        t.on.insert(v.into());
        for w in t.edges.get(v).into_iter().flatten() {
            if !t.index.contains_key(w) {
                visit(t, w);
                let l = t.low[w].min(t.low[v]);
                t.low.insert(v.into(), l);
            } else if t.on.contains(w) {
                let l = t.index[w].min(t.low[v]);
                t.low.insert(v.into(), l);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(&w);
                let done = w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    let nodes: BTreeSet<String> =
        edges.iter().flat_map(|(k, v)| std::iter::once(k.clone()).chain(v.iter().cloned())).collect();
    for v in nodes {
        if !t.index.contains_key(&v) {
            visit(&mut t, &v);
        }
    }
    t.out
}

#[test]
fn module_graph_has_no_cycles_and_keeps_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut units = Vec::new();
    let mut excluded = BTreeSet::new();
    collect(&root, &root, &mut units, &mut excluded);
    units.retain(|u| !u.module.is_empty() && !excluded.iter().any(|e| u.module.starts_with(e)));
    let modules: BTreeSet<Vec<String>> = units.iter().map(|u| u.module.clone()).collect();

    // Node-level edges (depth <= 2), then the top-level edges they imply.
    let mut sub: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for u in &units {
        let from = node_of(&u.module, &modules).unwrap();
        for r in &u.refs {
            if let Some(to) = node_of(r, &modules) {
                if to != from {
                    sub.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    let top_of = |n: &str| n.split("::").next().unwrap().to_string();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in &sub {
        for to in tos {
            let (a, b) = (top_of(from), top_of(to));
            if a != b {
                top.entry(a).or_default().insert(b);
            }
        }
    }
    let tops: BTreeSet<String> = modules.iter().map(|m| m[0].clone()).collect();

    let layer_of = |m: &str| LAYERS.iter().position(|(_, ms)| ms.contains(&m));
    let mut problems = Vec::new();
    println!("runtime-core module graph (top level; `a -> b`: a names b)");
    for (i, (name, ms)) in LAYERS.iter().enumerate() {
        println!("layer {i} {name}:");
        for m in ms.iter().filter(|m| tops.contains(**m)) {
            let deps: Vec<&str> = top.get(*m).into_iter().flatten().map(String::as_str).collect();
            println!("  {m} -> {}", if deps.is_empty() { "-".to_string() } else { deps.join(", ") });
        }
    }
    for m in &tops {
        if layer_of(m).is_none() {
            problems.push(format!("module `{m}` is in no layer (add it to LAYERS and docs/architecture.md)"));
        }
    }
    for (a, bs) in &top {
        for b in bs {
            if let (Some(la), Some(lb)) = (layer_of(a), layer_of(b)) {
                if lb > la {
                    problems.push(format!("layer violation: `{a}` ({}) names `{b}` ({})", LAYERS[la].0, LAYERS[lb].0));
                }
            }
        }
    }
    for p in PURE {
        for b in top.get(*p).into_iter().flatten().filter(|b| IMPURE.contains(&b.as_str())) {
            problems.push(format!("pure module `{p}` names `{b}`"));
        }
    }
    for c in cycles(&top) {
        problems.push(format!("cycle between top-level modules: {}", c.join(", ")));
    }
    // Within each directory module: its submodules (not counting its own mod.rs) form no cycle.
    println!("submodule edges within a directory module:");
    for dir in &tops {
        let mut inner: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, tos) in &sub {
            if from.starts_with(&format!("{dir}::")) {
                for to in tos.iter().filter(|t| t.starts_with(&format!("{dir}::"))) {
                    inner.entry(from.clone()).or_default().insert(to.clone());
                }
            }
        }
        for (from, tos) in &inner {
            println!("  {from} -> {}", tos.iter().cloned().collect::<Vec<_>>().join(", "));
        }
        for c in cycles(&inner) {
            problems.push(format!("cycle between submodules: {}", c.join(", ")));
        }
    }
    println!("cross-module edges of submodules:");
    for (from, tos) in &sub {
        let outside: Vec<&str> = tos.iter().filter(|t| top_of(t) != top_of(from)).map(String::as_str).collect();
        if !outside.is_empty() && from.contains("::") {
            println!("  {from} -> {}", outside.join(", "));
        }
    }
    for p in &problems {
        println!("PROBLEM: {p}");
    }
    assert!(problems.is_empty(), "{} problem(s) in the module graph:\n{}", problems.len(), problems.join("\n"));
}
