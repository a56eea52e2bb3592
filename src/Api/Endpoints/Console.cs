using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace CallNotify.Api.Endpoints;

public sealed class ConsoleOptions
{
    public const string Section = "Console";

    /// <summary>Serve the operator console at <c>/console</c>.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// The operator console (SPEC §7): static files from <c>wwwroot/console</c>, no build step. Every view's address
/// (<c>/console/identities/…</c>, <c>/console/notifications/…</c>) answers the same page, which reads its address. The
/// page holds no data: it calls the admin API with the admin key the operator signs in with, kept for the tab only.
/// A strict Content-Security-Policy: scripts and styles from this origin only, no inline script, no framing.
/// </summary>
public static class OperatorConsole
{
    public const string Path = "/console";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly Dictionary<string, string> Assets = new(StringComparer.Ordinal)
    {
        ["console.js"] = "text/javascript; charset=utf-8",
        ["console.css"] = "text/css; charset=utf-8",
    };

    public static IEndpointRouteBuilder MapOperatorConsole(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IOptions<ConsoleOptions>>().Value.Enabled)
        {
            return app;
        }

        var files = app.ServiceProvider.GetRequiredService<IWebHostEnvironment>().WebRootFileProvider;
        app.MapGet(Path, (HttpContext context) => Serve(context, files, "index.html", "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet(Path + "/{**rest}", (HttpContext context, string rest) =>
                Assets.TryGetValue(rest, out var type)
                    ? Serve(context, files, rest, type)
                    : Serve(context, files, "index.html", "text/html; charset=utf-8"))
            .ExcludeFromDescription();
        return app;
    }

    private static async Task Serve(HttpContext context, IFileProvider files, string name, string contentType)
    {
        var file = files.GetFileInfo("console/" + name);
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        if (!file.Exists)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = contentType;
        await using var stream = file.CreateReadStream();
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
