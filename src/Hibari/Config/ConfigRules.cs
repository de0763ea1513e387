namespace Hibari.Config;

/// <summary>Rules that involve several keys, checked once every key is applied (docs/requirements.md, section 2).</summary>
internal static class ConfigRules
{
    /// <summary>The first rule <paramref name="o"/> breaks, as a one-line error, or null when it is valid.</summary>
    public static string? Check(HibariOptions o)
    {
        if (o.Cluster)
        {
            // Other nodes must be able to name, redirect to and authenticate this node.
            if (o.NodeName is null)
                return ConfigErrors.Required("node_name", "required when cluster = true (NAME@HOST, e.g. node-01@192.0.2.5)"); // C-CONF-2
            if (o.ExternalSignalingUrl is null)
                return ConfigErrors.Required("external_signaling_url", "required when cluster = true (the ws:// or wss:// URL other nodes redirect clients to)"); // C-CONF-3
            if (o.ExternalApiUrl is null)
                return ConfigErrors.Required("external_api_url", "required when cluster = true (the http:// or https:// URL other nodes redirect API calls to)"); // C-CONF-4
            if (o.ClusterSecret is null)
                return ConfigErrors.Required("cluster_secret", "required when cluster = true (at least 8 characters, the same on every node)");
        }

        // C-CONF-8: a node needs one port for Raft and one for node links.
        var (min, max) = (o.ClusterListenMinPort, o.ClusterListenMaxPort);
        if (min > max)
            return ConfigErrors.ClusterPortRangeReversed(min, max);
        if (max - min + 1 < 2)
            return ConfigErrors.ClusterPortRangeTooSmall(min, max);

        // The TCP listeners must not collide. rtc_udp_port is UDP, so it may share a number with a TCP port.
        if (o.ApiPort == o.SignalingPort)
            return ConfigErrors.SamePort("api_port", "signaling_port", o.ApiPort);
        foreach (var (key, port) in new[] { ("api_port", o.ApiPort), ("signaling_port", o.SignalingPort) })
            if (port >= min && port <= max)
                return ConfigErrors.PortInClusterRange(key, port, min, max);
        if (o.Turn)
        {
            // TURN's TCP listeners are TCP too (D-57); its UDP port must not be a media worker's.
            var tcp = new List<(string, int)> { ("api_port", o.ApiPort), ("signaling_port", o.SignalingPort) };
            if (o.TurnTcp && o.TurnTcpListenPort != 0) tcp.Add(("turn_tcp_listen_port", o.TurnTcpListenPort));
            if (o.TurnTlsCertificate is not null && o.TurnTlsListenPort != 0) tcp.Add(("turn_tls_listen_port", o.TurnTlsListenPort));
            for (var i = 2; i < tcp.Count; i++)
                for (var j = 0; j < i; j++)
                    if (tcp[i].Item2 == tcp[j].Item2) return ConfigErrors.SamePort(tcp[j].Item1, tcp[i].Item1, tcp[i].Item2);
            if (o.TurnUdpPort != 0 && o.RtcUdpPort != 0 && o.TurnUdpPort >= o.RtcUdpPort && o.TurnUdpPort < o.RtcUdpPort + o.MediaWorkers)
                return ConfigErrors.SamePort("rtc_udp_port", "turn_udp_port", o.TurnUdpPort);
            if ((o.TurnTlsCertificate is null) != (o.TurnTlsPrivateKey is null))
                return ConfigErrors.Required(o.TurnTlsCertificate is null ? "turn_tls_certificate" : "turn_tls_private_key",
                    "turn_tls_certificate and turn_tls_private_key go together (PEM files for TURN over TLS)");
        }
        // Media worker k listens on rtc_udp_port + k (docs/decisions.md D-29): the whole range must be ports.
        if (o.RtcUdpPort != 0 && o.RtcUdpPort + o.MediaWorkers - 1 > 65535)
            return ConfigErrors.MediaPortsBeyondRange(o.RtcUdpPort, o.MediaWorkers);
        return null;
    }
}
