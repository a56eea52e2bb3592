using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>
/// An OTLP/HTTP collector on loopback (127.0.0.1 only): records every export POSTed to it (path, content type,
/// body) and answers 200 with an empty body, a valid empty <c>Export*ServiceResponse</c>.
/// </summary>
public sealed class FakeOtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SemaphoreSlim _arrivals = new(0);

    private FakeOtlpReceiver(WebApplication app) => _app = app;

    public sealed record Export(string Path, string? ContentType, byte[] Body);

    public Uri BaseUrl { get; private set; } = null!;

    public ConcurrentQueue<Export> Exports { get; } = new();

    public static async Task<FakeOtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new FakeOtlpReceiver(app);
        app.MapPost("/v1/{signal}", (Func<HttpContext, Task<IResult>>)receiver.ReceiveAsync);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        receiver.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    /// <summary>Waits (bounded) until an export to <paramref name="path"/> satisfying <paramref name="match"/> arrived.</summary>
    public async Task<Export?> WaitForAsync(string path, Func<Export, bool> match, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var found = Exports.FirstOrDefault(e => e.Path == path && match(e));
            var left = deadline - DateTime.UtcNow;
            if (found is not null || left <= TimeSpan.Zero)
            {
                return found;
            }

            await _arrivals.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _arrivals.Dispose();
    }

    private async Task<IResult> ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        Exports.Enqueue(new Export(context.Request.Path.Value!, context.Request.ContentType, body.ToArray()));
        _arrivals.Release();
        return Results.Ok();
    }
}
