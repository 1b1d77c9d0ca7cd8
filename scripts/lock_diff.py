"""Prints the packages whose locked version moved between two uv.lock files: `python3 lock_diff.py OLD NEW`."""

from __future__ import annotations

import sys
import tomllib


def versions(path: str) -> dict[str, set[str]]:
    with open(path, "rb") as file:
        packages = tomllib.load(file).get("package", [])
    found: dict[str, set[str]] = {}
    for package in packages:
        if "version" in package:
            found.setdefault(package["name"], set()).add(package["version"])
    return found


def main(old_path: str, new_path: str) -> None:
    old, new = versions(old_path), versions(new_path)
    moved = [name for name in sorted(old.keys() | new.keys()) if old.get(name) != new.get(name)]
    for name in moved:
        print(f"{name}: {', '.join(sorted(old.get(name, {'-'})))} -> {', '.join(sorted(new.get(name, {'-'})))}")
    print(f"{len(moved)} of {len(new)} locked packages moved")


if __name__ == "__main__":
    main(*sys.argv[1:3])
