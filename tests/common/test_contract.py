"""The step argv built by templates parses back to the same values in the CLI parser."""

import argparse
import json

from hera_imagebuild.common.contract import PrefetchArgs, PushArgs, add_arguments


def _parse(args_type, argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser, args_type)
    assert argv[0] == args_type.command
    return parser.parse_args(argv[1:])


def test_prefetch_round_trip_keeps_hostile_values_literal():
    hostile = "$(id); rm -rf / `uname` \"q\" 'q'\nnext"
    args = PrefetchArgs(
        dockerfile=f"/workspace/context/{hostile}",
        build_args=[f"A={hostile}", "B=2"],
        mirrors=["docker.io=127.0.0.1:5001,127.0.0.1:5002/hub"],
        fallback="false",
        probe_timeout=1.5,
        output_dir="/workspace/out",
    )
    argv = args.to_argv()
    assert f"--build-arg=A={hostile}" in argv
    ns = _parse(PrefetchArgs, argv)
    assert ns.dockerfile == f"/workspace/context/{hostile}"
    assert ns.build_args == [f"A={hostile}", "B=2"]
    assert ns.mirrors == ["docker.io=127.0.0.1:5001,127.0.0.1:5002/hub"]
    assert ns.fallback == "false"
    assert ns.probe_timeout == 1.5


def test_json_twins_carry_template_parameters():
    args = PushArgs(image="/workspace/image", output_dir="/workspace/out")
    argv = args.to_argv(json_values={"destinations": "{{inputs.parameters.destinations}}"})
    assert "--destinations-json={{inputs.parameters.destinations}}" in argv
    assert not any(a.startswith("--destination=") for a in argv)
    value = json.dumps(["r.example.com/a:1"])
    ns = _parse(PushArgs, ["push", f"--destinations-json={value}"])
    assert json.loads(ns.destinations_json) == ["r.example.com/a:1"]
    assert ns.destinations is None
