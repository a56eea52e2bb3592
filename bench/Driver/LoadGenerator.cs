using System.Diagnostics;
using System.Net;

namespace CallNotify.Bench;

/// <summary>
/// Exactly <c>concurrency</c> workers, each sending one signed webhook after the other for warm-up + duration, through
/// one pooled <see cref="HttpClient"/> (one connection per worker). Every request is new: its own <c>twi_message_id</c>.
/// </summary>
internal static class LoadGenerator
{
    /// <summary>Twilio's own patience with a webhook: an answer later than this is an error.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    public static HttpClient CreateClient(int concurrency) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = concurrency,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        })
        {
            Timeout = RequestTimeout,
        };

    /// <summary>Runs the load; the window's measured part starts after the warm-up.</summary>
    public static async Task<LoadWindow> RunAsync(
        HttpClient http,
        WebhookRequests requests,
        RequestLog log,
        int concurrency,
        TimeSpan warmup,
        TimeSpan duration,
        Action? measuredStarted,
        CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var end = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        var workers = new Task[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            workers[i] = Task.Run(() => WorkerAsync(http, requests, log, end, cancellationToken), cancellationToken);
        }

        // The caller's meters (CPU, machine load) are read at the start of the measured part.
        var untilMeasured = TimeSpan.FromSeconds((double)(measureStart - Stopwatch.GetTimestamp()) / Stopwatch.Frequency);
        if (untilMeasured > TimeSpan.Zero)
        {
            await Task.Delay(untilMeasured, cancellationToken);
        }

        measuredStarted?.Invoke();
        await Task.WhenAll(workers);
        return new LoadWindow(start, measureStart, end, log.Count);
    }

    private static async Task WorkerAsync(HttpClient http, WebhookRequests requests, RequestLog log, long end, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var seq = log.Next();
            int status;
            using (var request = requests.Create(seq))
            {
                try
                {
                    log.MarkSent(seq);
                    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
                    status = (int)response.StatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    status = RequestLog.NoAnswer;
                }
            }

            log.Answered(seq, status);
        }
    }
}

/// <summary>Stopwatch ticks: load started, measured part started, load stopped; how many requests were sent in all.</summary>
internal readonly record struct LoadWindow(long Start, long MeasureStart, long End, long Requests)
{
    public double MeasuredSeconds => (double)(End - MeasureStart) / Stopwatch.Frequency;
}
