using System.Text.Json.Serialization;

namespace Hibari.Api.Contracts;

/// <summary>
/// Source-generated serialization of every HTTP API body. One set of rules for all of them:
/// snake_case names, null members omitted on write, unknown members ignored on read, and
/// required members (`required`, non-nullable) enforced by the deserializer, so a request that
/// misses one is a 400 naming the field via <see cref="ApiRequest.TryRead{T}(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T}, out T, out ApiResult?)"/>.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(StringArrayConverter)])]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(RedirectBody))]
[JsonSerializable(typeof(ModeBody))]
[JsonSerializable(typeof(LicenseBody))]
[JsonSerializable(typeof(InitClusterRequest))]
[JsonSerializable(typeof(NodeNameListBody))]
[JsonSerializable(typeof(RegisterClusterNodeRequest))]
[JsonSerializable(typeof(PurgeClusterNodeRequest))]
[JsonSerializable(typeof(ClusterNodeBody))]
[JsonSerializable(typeof(ClusterNodeBody[]))]
[JsonSerializable(typeof(ClusterChannelBody))]
[JsonSerializable(typeof(ClusterChannelBody[]))]
[JsonSerializable(typeof(StatsReportBody))]
[JsonSerializable(typeof(ChannelTargetRequest))]
[JsonSerializable(typeof(ListConnectionsRequest))]
[JsonSerializable(typeof(PushRequest))]
[JsonSerializable(typeof(EmptyBody))]
[JsonSerializable(typeof(ConnectionBody[]))]
[JsonSerializable(typeof(DebugClaimSessionRequest))]
[JsonSerializable(typeof(DebugClaimSessionBody))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
