"""``vidgan train``: train (or resume) a family preset or YAML config in a run directory."""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

from vidgan.cli._common import add_common, new_parser


def add_parser(sub) -> None:
    p = new_parser(
        sub,
        "train",
        help="train or resume a model",
        description="Train a model. CONFIG is FAMILY:PRESET (see `vidgan families`) or a YAML file; any number "
        "of dotted key=value overrides follow. Re-running the same command resumes from the latest "
        "checkpoint in --run-dir and continues exactly as an uninterrupted run. Launch on several "
        "GPUs/processes with `torchrun --nproc_per_node N -m vidgan train ...`.",
        example="vidgan train tganv2:moving_digits_64 train.batch_size=4 --run-dir runs/digits --max-clips 2048",
    )
    p.add_argument("config", metavar="CONFIG", help="FAMILY:PRESET or path/to/config.yaml")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="dotted overrides, e.g. data.size=64")
    p.add_argument(
        "--run-dir",
        default=None,
        help="output folder (checkpoints, logs, samples); default runs/<family>_<preset>_<hash>",
    )
    p.add_argument(
        "--max-clips",
        type=int,
        default=None,
        help="stop once this many clips have been seen in total (default: train.total_clips)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    p.add_argument(
        "--profile-steps",
        type=int,
        default=0,
        metavar="N",
        help="time N training iterations (after 1 warm-up; every phase each time, lazy ones amortised) and "
        "print JSON; nothing is written to the run directory",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--eval",
        dest="eval_metrics",
        nargs="+",
        default=[],
        metavar="METRIC",
        help="metrics computed periodically on EMA samples, e.g. --eval fvd (needs the I3D weights: "
        "`vidgan weights import i3d_k400_tfhub PATH`)",
    )
    p.add_argument("--eval-every", type=int, default=0, metavar="CLIPS", help="evaluate every CLIPS clips seen")
    p.add_argument("--eval-num", type=int, default=64, help="videos per side for --eval")
    p.add_argument(
        "--eval-real", default=None, help="real videos for --eval (default: the validation split of data.source)"
    )
    add_common(p)
    p.set_defaults(func=run)


def default_run_dir(cfg) -> Path:
    from vidgan.core.config import dump_yaml

    digest = hashlib.sha1(dump_yaml(cfg).encode()).hexdigest()[:8]
    return Path("runs") / f"{cfg.family.name}_{cfg.preset or 'custom'}_{digest}"


def run(args: argparse.Namespace) -> int:
    from vidgan.cli import _console as console
    from vidgan.core import dist
    from vidgan.core.config import dump_yaml
    from vidgan.engine.config import resolve_run_config

    if os.environ.get("RANK", "0") != "0":  # torchrun: only rank 0 talks (torch.distributed is not up yet)
        console.set_level(console.QUIET)
    with console.timed("config resolved in"):
        cfg = resolve_run_config(args.config, args.overrides)
    source = Path(args.config).resolve() if Path(args.config).is_file() else args.config
    console.detail(f"config:   {source} -> {cfg.family.name}:{cfg.preset or 'custom'}")
    if args.overrides:
        console.detail(f"override: {' '.join(args.overrides)}")
    if args.dry_run:
        print(dump_yaml(cfg), end="")
        return 0
    if args.profile_steps:
        import json

        from vidgan.engine.profile import profile_iteration
        from vidgan.engine.trainer import pick_device

        print(json.dumps(profile_iteration(cfg, args.profile_steps, device=pick_device(args.device)), indent=1))
        return 0
    from vidgan.engine.trainer import pick_device, run_dataset, train
    from vidgan.report import write_run_report

    if args.max_clips is not None and args.max_clips <= 0:
        raise ValueError("--max-clips must be a positive number of clips")
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir(cfg)
    device = pick_device(args.device)
    console.detail(f"run dir:  {run_dir.resolve()}")
    console.detail(f"device:   {console.describe_device(device)}; {os.environ.get('WORLD_SIZE', '1')} process(es)")
    hook = None
    if args.eval_metrics:
        from vidgan.cli._train_eval import make_eval_hook

        if args.eval_every <= 0:
            raise ValueError("--eval needs --eval-every CLIPS (how often to evaluate)")
        hook = make_eval_hook(cfg, args.eval_metrics, args.eval_num, args.eval_real, device)
    with console.timed("dataset built in"):
        dataset = run_dataset(cfg, "train")
    console.detail(f"dataset:  {len(dataset)} items from {cfg.data.source} ({cfg.data.sampler} sampler)")
    with console.timed("training took"):
        result = train(
            cfg,
            run_dir,
            dataset,
            device=device,
            max_clips=args.max_clips,
            progress=console.show_progress(args),
            eval_hook=hook,
            eval_every_clips=args.eval_every,
            on_tick=write_run_report,
            verbosity=console.level(),
        )
    if dist.is_main():
        info = console.info
        samples = sorted((run_dir / "samples").glob("*.mp4"))
        info(f"done: {result.clips_seen} clips, {result.step} steps in {run_dir}")
        if result.checkpoint:
            info(f"checkpoint: {result.checkpoint}")
        if samples:
            info(f"samples:    {samples[-1]} (and .gif)")
        info(f"logs:       {run_dir / 'log.jsonl'}  (tensorboard --logdir {run_dir / 'tensorboard'})")
        info(f"report:     {run_dir / 'report.html'}  (open it in a browser; `vidgan report {run_dir}` rebuilds it)")
    dist.shutdown()
    return 0
