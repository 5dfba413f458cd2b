#!/bin/bash
# Placeholder: replaced by the job runner in the `pookie run` work.
