using Microsoft.AspNetCore.Http.Features;

namespace CallNotify.Api.Http;

/// <summary>The URL Twilio signed: the configured public URL, or the request's own, with the query string exactly as received.</summary>
public static class WebhookUrl
{
    public static string For(HttpRequest request, string? configuredUrl)
    {
        var query = request.QueryString.Value ?? string.Empty;
        if (!string.IsNullOrEmpty(configuredUrl))
        {
            var queryStart = configuredUrl.IndexOf('?', StringComparison.Ordinal);
            var baseUrl = queryStart < 0 ? configuredUrl : configuredUrl[..queryStart];
            return baseUrl + query;
        }

        // The request target as it came over the wire keeps the client's own encoding of path and query.
        var rawTarget = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var pathAndQuery = rawTarget is { Length: > 0 } && rawTarget[0] == '/'
            ? rawTarget
            : request.PathBase.ToUriComponent() + request.Path.ToUriComponent() + query;
        return $"{request.Scheme}://{request.Host.ToUriComponent()}{pathAndQuery}";
    }
}

/// <summary>
/// The one Twilio setting the Api reads itself: <c>Twilio:WebhookUrl</c>, the exact public URL configured at Twilio
/// (validated with the rest of the <c>Twilio</c> section by Infrastructure). Unset: the URL is rebuilt from the request.
/// </summary>
public sealed class WebhookUrlOptions
{
    public const string Section = "Twilio";

    public string? WebhookUrl { get; set; }
}
