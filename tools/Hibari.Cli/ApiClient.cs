using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Hibari.Cli;

/// <summary>What a node answered: the status, the body's text, and the URL that answered (after redirects).</summary>
internal sealed record ApiAnswer(int Status, string Body, Uri Url);

/// <summary>No answer: the node could not be reached, did not answer in time, or redirected too often.</summary>
internal sealed class UnreachableException(string message) : Exception(message);

/// <summary>
/// One API call (docs/protocol-notes.md, "API conventions"): `POST` with `x-sora-target` and a JSON body. A node that
/// does not hold a channel answers a channel call with 307 and the holder's URL (C-API-1); the call is repeated there,
/// the same header and body, at most <see cref="MaxRedirects"/> times.
/// </summary>
internal sealed class ApiClient(HttpMessageHandler? handler = null)
{
    public const int MaxRedirects = 4;

    public async Task<ApiAnswer> CallAsync(Uri url, string target, string body, TimeSpan timeout)
    {
        using var http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false }, disposeHandler: handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        // One deadline for the whole call, redirects included.
        using var cts = new CancellationTokenSource(timeout);
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url);
            request.Headers.TryAddWithoutValidation("x-sora-target", target);
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            HttpResponseMessage response;
            string text;
            try
            {
                response = await http.SendAsync(request, cts.Token).ConfigureAwait(false);
                text = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new UnreachableException($"no answer from {url} within {timeout.TotalSeconds:0.###} s");
            }
            catch (HttpRequestException e)
            {
                throw new UnreachableException($"cannot reach {url}: {e.Message}");
            }
            using (response)
            {
                if (response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect && response.Headers.Location is { } location)
                {
                    if (hop >= MaxRedirects) throw new UnreachableException($"more than {MaxRedirects} redirects (last to {location})");
                    url = location.IsAbsoluteUri ? location : new Uri(url, location);
                    continue;
                }
                return new ApiAnswer((int)response.StatusCode, text, url);
            }
        }
    }
}
