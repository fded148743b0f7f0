#!/usr/bin/env python3
"""Writes gitleaks' default config, as its binary embeds it (the TOML text
from its generated header to the first byte that is no text), to a file.
Usage: bench/gitleaks-config.py GITLEAKS_BINARY OUT.toml"""
import sys

b = open(sys.argv[1], 'rb').read()
i = b.find(b'# This file has been auto-generated. Do not edit manually.')
if i < 0:
    sys.exit(f"{sys.argv[1]} embeds no gitleaks default config")
end = i
while end < len(b) and (b[end] >= 0x20 or b[end] in b'\n\r\t'):
    end += 1
open(sys.argv[2], 'wb').write(b[i:end])
