using System.Text;
using System.Text.Json;
using Hibari.Api;
using Hibari.Api.Contracts;

namespace Hibari.Tests.Api;

/// <summary>Wire shapes of the API bodies: the names sora_exporter and the SDKs read (docs/protocol-notes.md, "HTTP API" and "Stats").</summary>
public sealed class ApiContractsTests
{
    private static string Write<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) => JsonSerializer.Serialize(value, info);

    [Fact]
    public void Error_body_is_error_type_and_message() =>
        Assert.Equal("""{"error_type":"UnknownTarget","message":"m"}""",
            Write(new ErrorBody { ErrorType = "UnknownTarget", Message = "m" }, ApiJsonContext.Default.ErrorBody));

    [Fact]
    public void Mode_body_B_4() =>
        Assert.Equal("""{"mode":"block_new_connection"}""", Write(new ModeBody { Mode = "block_new_connection" }, ApiJsonContext.Default.ModeBody));

    [Fact]
    public void License_body_B_6_with_max_nodes()
    {
        var license = new LicenseBody
        {
            ExpiredAt = "2025-09", MaxConnections = 100, MaxNodes = 10, ProductName = "Sora",
            SerialCode = "EXPORTER-SRA-E001-202509-N10-100", Type = "Experimental",
        };

        Assert.Equal("""{"expired_at":"2025-09","max_connections":100,"max_nodes":10,"product_name":"Sora","serial_code":"EXPORTER-SRA-E001-202509-N10-100","type":"Experimental"}""",
            Write(license, ApiJsonContext.Default.LicenseBody));
    }

    [Fact]
    public void License_body_omits_max_nodes_when_absent()
    {
        var license = new LicenseBody { ExpiredAt = "2099-12", MaxConnections = 1000, ProductName = "Sora", SerialCode = "S", Type = "standard" };

        Assert.DoesNotContain("max_nodes", Write(license, ApiJsonContext.Default.LicenseBody));
    }

    [Fact]
    public void Disconnected_cluster_node_is_only_node_name_and_connected_B_5() =>
        Assert.Equal("""[{"node_name":"n1@127.0.0.1","connected":false}]""",
            Write([new ClusterNodeBody { NodeName = "n1@127.0.0.1", Connected = false }], ApiJsonContext.Default.ClusterNodeBodyArray));

    [Fact]
    public void Connected_cluster_node_has_every_field_snake_cased()
    {
        var node = new ClusterNodeBody
        {
            NodeName = "n2@127.0.0.2", Connected = true, Mode = "normal",
            ExternalSignalingUrl = "ws://127.0.0.2:5000/signaling", ExternalApiUrl = "http://127.0.0.2:3000/",
            LicenseMaxConnections = 100, LicenseMaxNodes = 10, LicenseSerialCode = "S", LicenseType = "max_nodes",
            Version = "0.1.0", TemporaryNode = false,
        };

        Assert.Equal(
            """{"node_name":"n2@127.0.0.2","connected":true,"mode":"normal","external_signaling_url":"ws://127.0.0.2:5000/signaling","external_api_url":"http://127.0.0.2:3000/","license_max_connections":100,"license_max_nodes":10,"license_serial_code":"S","license_type":"max_nodes","version":"0.1.0","temporary_node":false}""",
            Write(node, ApiJsonContext.Default.ClusterNodeBody));
    }

    [Fact]
    public void Cluster_channel_lists_owners()
    {
        var channel = new ClusterChannelBody { ChannelId = "sora", Owners = [new ChannelOwnerBody { NodeName = "n1@127.0.0.1", Connected = true }] };

        Assert.Equal("""[{"channel_id":"sora","owners":[{"node_name":"n1@127.0.0.1","connected":true}]}]""",
            Write([channel], ApiJsonContext.Default.ClusterChannelBodyArray));
    }

    [Fact]
    public void Stats_report_uses_the_names_sora_exporter_reads_7_3_B_7()
    {
        var stats = new StatsReportBody
        {
            Version = "0.1.0", TotalConnectionCreated = 2, TotalConnectionUpdated = 23, TotalConnectionDestroyed = 2,
            TotalSuccessfulConnections = 2, TotalFailedConnections = 0, TotalOngoingConnections = 0,
            TotalSessionCreated = 1, TotalSessionDestroyed = 0,
            Cluster = new ClusterStatsBody { RaftState = "follower", RaftTerm = 3, RaftCommitIndex = 10 },
        };

        var json = System.Text.Json.Nodes.JsonNode.Parse(Write(stats, ApiJsonContext.Default.StatsReportBody))!.AsObject();
        Assert.Equal("0.1.0", (string?)json["version"]);
        Assert.Equal(23, (long)json["total_connection_updated"]!);
        Assert.Equal("follower", (string?)json["cluster"]!["raft_state"]);
        Assert.Equal(10, (long)json["cluster"]!["raft_commit_index"]!);
        Assert.Empty(json["cluster_relay"]!.AsArray());
        // Every counter name sora_exporter reads (docs/protocol-notes.md, "GetStatsReport and exporter counters") that Hibari keeps.
        string[] names =
        [
            "total_connection_created", "total_connection_updated", "total_connection_destroyed", "total_successful_connections",
            "total_failed_connections", "total_ongoing_connections", "total_session_created", "total_session_destroyed",
            "total_auth_webhook_allowed", "total_auth_webhook_denied", "total_successful_auth_webhook", "total_failed_auth_webhook",
            "total_successful_session_webhook", "total_failed_session_webhook", "total_ignored_session_webhook",
            "total_successful_event_webhook", "total_failed_event_webhook", "total_ignored_event_webhook",
            "total_received_srtp", "total_received_srtp_byte_size", "total_sent_srtp", "total_sent_srtp_byte_size",
            "total_decrypted_srtp", "total_decrypted_srtp_byte_size",
        ];
        foreach (var name in names) Assert.True(json.ContainsKey(name), name);
    }

    [Fact]
    public void Cluster_relay_entry_names()
    {
        var relay = new ClusterRelayStatsBody { NodeName = "n1", TotalReceivedByteSize = 11, TotalSentByteSize = 12, TotalReceived = 13, TotalSent = 14, Version = 1 };

        var entry = Write(new StatsReportBody { Version = "v", ClusterRelay = [relay] }, ApiJsonContext.Default.StatsReportBody)
            .Split("\"cluster_relay\":[")[1];
        // Sora's fields (as sora_exporter reads them) first, then Hibari's own.
        Assert.StartsWith("""{"node_name":"n1","total_received_byte_size":11,"total_sent_byte_size":12,"total_received":13,"total_sent":14,""", entry);
        foreach (var name in new[] { "total_sent_rtp", "total_received_rtp", "total_sent_messages", "total_received_messages", "total_send_failures",
            "total_refused", "latency_us_p50", "latency_us_p99", "latency_buckets_us", "latency_bucket_counts", "version",
            "rtp_transport", "total_sent_rtp_udp", "total_received_rtp_udp", "total_refused_udp", "total_replayed_udp" })
            Assert.Contains($"\"{name}\":", entry);
    }

    [Theory]
    [InlineData("""{"contact_node_name": "n1@127.0.0.1"}""", true)]
    [InlineData("""{}""", false)]
    [InlineData("""{"contact_node_name": null}""", false)]
    [InlineData("""{"contact_node_name": 1}""", false)]
    public void RegisterClusterNode_requires_contact_node_name(string json, bool ok)
    {
        var request = new ApiRequest("Sora_20990101.RegisterClusterNode", Encoding.UTF8.GetBytes(json));

        Assert.Equal(ok, request.TryRead(ApiJsonContext.Default.RegisterClusterNodeRequest, out var value, out var error));
        if (ok)
            Assert.Equal("n1@127.0.0.1", value.ContactNodeName);
        else
            Assert.Contains("contact_node_name", Assert.IsType<ApiResult.ErrorResult>(error).Message);
    }

    [Theory]
    [InlineData("""{"target_node_name": "n3@127.0.0.3"}""", true)]
    [InlineData("", false)]
    [InlineData("""{"node_name": "n3@127.0.0.3"}""", false)]
    public void PurgeClusterNode_requires_target_node_name(string json, bool ok)
    {
        var request = new ApiRequest("Sora_20990101.PurgeClusterNode", Encoding.UTF8.GetBytes(json));

        Assert.Equal(ok, request.TryRead(ApiJsonContext.Default.PurgeClusterNodeRequest, out _, out var error));
        if (!ok)
        {
            var e = Assert.IsType<ApiResult.ErrorResult>(error);
            Assert.Equal((400, ApiErrorTypes.InvalidBody), (e.Status, e.ErrorType));
            Assert.Contains("target_node_name", e.Message);
        }
    }

    [Fact]
    public void TryRead_with_an_empty_value_keeps_answering_it_for_an_empty_body()
    {
        var fallback = new ModeBody { Mode = "normal" };
        var request = new ApiRequest("Sora_20211215.GetMode", ReadOnlyMemory<byte>.Empty);

        Assert.True(request.TryRead(ApiJsonContext.Default.ModeBody, fallback, out var value, out var error));
        Assert.Same(fallback, value);
        Assert.Null(error);
    }
}
