#!/bin/bash
# e2e_ipv4.sh over IPv6 (same checks; MSS from MTU - 60).
FAMILY=6 TEST_NAME=ipv6 exec "$(dirname "$0")/e2e_ipv4.sh" "$@"
