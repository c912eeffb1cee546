#!/usr/bin/env bash
# Offline route to the real data sets (placeholder until the data loaders land).
exit 0
