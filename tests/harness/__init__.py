"""Test harness for slotgate: a real local Redis Cluster, the slotgate process, and a raw
RESP2/RESP3 connection. Import with `tests/` on sys.path:

    from harness import RedisCluster, Slotgate, RawConnection
"""

from .cluster import Node, RedisCluster, parse_cluster_nodes, parse_info
from .processes import wait_until
from .resp import ProtocolError, Push, RawConnection, RespError, RespSet, Verbatim, encode_command, error_text
from .server import RedisServer
from .slotgate import FileConfiguredSlotgate, Slotgate, http_get, http_status
from .slots import key_slot

__all__ = [
    "Node", "RedisCluster", "RedisServer", "Slotgate", "FileConfiguredSlotgate", "RawConnection", "RespError", "Push",
    "RespSet", "Verbatim", "ProtocolError", "encode_command", "error_text", "key_slot", "wait_until", "http_get",
    "http_status", "parse_cluster_nodes", "parse_info",
]
