"""Which address a sign-in is counted against: the peer, or behind trusted proxies the right-most untrusted hop."""

from __future__ import annotations

import pytest

from sync_server.client_address import client_address, parse_networks
from sync_server.config import Settings

PROXIES = parse_networks("10.0.0.0/8, 192.168.1.5")


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address("203.0.113.9", ["198.51.100.1"], ()) == "203.0.113.9"


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert client_address("203.0.113.9", ["198.51.100.1"], PROXIES) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_forwarded_client_counts() -> None:
    assert client_address("10.1.2.3", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_hops_the_client_wrote_itself_are_skipped() -> None:
    # The client sent "1.1.1.1"; our proxy appended the real peer; a second trusted proxy appended the first.
    header = ["1.1.1.1, 198.51.100.1", "192.168.1.5"]
    assert client_address("10.0.0.2", header, PROXIES) == "198.51.100.1"


def test_garbage_left_of_the_trusted_hops_stops_the_walk() -> None:
    assert client_address("10.0.0.2", ["not-an-ip, 192.168.1.5"], PROXIES) == "192.168.1.5"


def test_a_trusted_peer_without_a_header_is_itself() -> None:
    assert client_address("10.0.0.2", [], PROXIES) == "10.0.0.2"


def test_no_peer_is_unknown() -> None:
    assert client_address(None, ["198.51.100.1"], PROXIES) == "unknown"


def test_a_bad_trusted_proxies_setting_stops_the_start() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies="10.0.0.0/8, not-a-network")
    assert Settings(trusted_proxies="").trusted_proxies == ""
