using System.Buffers;

// The baseline the benchmark compares CallNotify with: the same Kestrel and ASP.NET Core pipeline, the same route,
// a handler that reads the whole body (as CallNotify must, up to 64 KiB) and answers 200. Nothing else.
// The address comes from ASPNETCORE_URLS (the driver picks a free loopback port).
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

app.MapGet("/readyz", () => TypedResults.Ok());
app.MapPost("/calls/notificationWebhook", async (HttpRequest request, CancellationToken cancellationToken) =>
{
    var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024 + 1);
    try
    {
        var length = 0;
        int read;
        while ((read = await request.Body.ReadAsync(buffer.AsMemory(length, buffer.Length - length), cancellationToken)) > 0)
        {
            length += read;
            if (length == buffer.Length)
            {
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }
        }

        return Results.Ok();
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }
});

await app.RunAsync();
