using System.Diagnostics;
using System.Net;
using System.Text;
using CallNotify.Api.IntegrationTests.Support;
using OpenTelemetry.Trace;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// OpenTelemetry tracing as wired in the Api: a webhook is one trace, in which the ASP.NET Core request span, the
/// Npgsql spans of its lookup and record, and the dispatcher's delivery-attempt span all share the TraceId; and with
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set the spans really leave the process over OTLP (http/protobuf).
/// </summary>
[TestFixture(StoreKind.Postgres)]
public sealed class TracingTests(StoreKind store) : ApiFixture(store)
{
    private readonly ExportedSpans _spans = new();

    /// <summary>The service's own tracer provider, plus an in-memory exporter for the test to read.</summary>
    /// <summary>Spans are recorded only when they are exported somewhere; nothing listens there, the test reads memory.</summary>
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
    };

    protected override Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? Services =>
        services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans));

    [Test]
    public async Task AWebhookIsOneTraceFromTheRequestThroughItsStoreCallsToTheDeliveryAttempt()
    {
        using var bob = await ConnectAsync("bob");
        var body = TwilioRequests.Body();

        using var response = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(bob, TimeSpan.FromSeconds(5));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)));

        // Spans are exported as they end; the request span ends with the answer, the delivery span after the frame.
        var request = await Eventually.Until(() => Task.FromResult(_spans.Snapshot().LastOrDefault(IsWebhookRequest)), span => span is not null);
        Assert.That(request, Is.Not.Null, "no span for the webhook request was exported");
        var trace = await Eventually.Until(
            () => Task.FromResult(_spans.Snapshot().Where(s => s.TraceId == request!.TraceId).ToList()),
            spans => spans.Any(IsDeliveryAttempt) && spans.Count(IsStoreCall) >= 2);
        var store = trace.Where(IsStoreCall).ToList();
        var delivery = trace.SingleOrDefault(IsDeliveryAttempt);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(request!.Kind, Is.EqualTo(ActivityKind.Server));
            Assert.That(request.GetTagItem("http.response.status_code"), Is.EqualTo(200));

            Assert.That(store.Select(Statement), Has.Some.Contains("bindings"), "the lookup of the callee's bindings");
            Assert.That(store.Select(Statement), Has.Some.Contains("INSERT INTO call_notifications"), "the record of the notification");
            Assert.That(store.Select(s => s.Kind), Is.All.EqualTo(ActivityKind.Client));

            Assert.That(delivery, Is.Not.Null, "one delivery-attempt span in the webhook's trace");
            Assert.That(delivery?.DisplayName, Is.EqualTo("delivery websocket"));
            Assert.That(delivery?.GetTagItem("callnotify.attempt"), Is.EqualTo(1));
            Assert.That(delivery?.GetTagItem("callnotify.outcome"), Is.EqualTo("Accepted"));
            Assert.That(delivery is not null && DescendsFrom(delivery, request, trace), Is.True, "the delivery span hangs under the request span");
            Assert.That(store.All(s => DescendsFrom(s, request, trace)), Is.True, "the store spans hang under the request span");
        }
    }

    [Test]
    public async Task ExportsTheSpansOverOtlpWhenAnEndpointIsConfigured()
    {
        await using var collector = await FakeOtlpReceiver.StartAsync();
        var app = new CallNotifyApp(Store, new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.BaseUrl.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        await using (app)
        {
            using var client = app.CreateClient();
            using var request = TwilioRequests.SignedRequest(app.BaseAddress, Encoding.UTF8.GetBytes(TwilioRequests.Body(to: "client:nobody")));
            using var response = await client.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

            // Exported by the batch processor within its delay, or at the latest when the app stops (it flushes).
            await collector.WaitForAsync("/v1/traces", HasWebhookSpan, TimeSpan.FromSeconds(10));
        }

        var export = collector.Exports.FirstOrDefault(e => e.Path == "/v1/traces" && HasWebhookSpan(e));
        Assert.That(export, Is.Not.Null, $"no trace export with the webhook's span; exports: {string.Join(", ", collector.Exports.Select(e => e.Path))}");
        Assert.That(export!.ContentType, Is.EqualTo("application/x-protobuf"));
    }

    // ---------------------------------------------------------------- helpers

    private static bool IsWebhookRequest(Activity span) =>
        span.Source.Name == "Microsoft.AspNetCore" && span.GetTagItem("http.route") as string == "/calls/notificationWebhook";

    /// <summary>An Npgsql command, or the service's span for its write or lookup in a shared round trip (ADR 0012, 0013).</summary>
    private static bool IsStoreCall(Activity span) =>
        span.Source.Name == "Npgsql" || (span.Source.Name == "CallNotify" && span.DisplayName is "store write" or "store lookup");

    private static bool IsDeliveryAttempt(Activity span) => span.Source.Name == "CallNotify" && span.DisplayName.StartsWith("delivery ", StringComparison.Ordinal);

    private static string Statement(Activity span) =>
        (span.GetTagItem("db.query.text") ?? span.GetTagItem("db.statement")) as string ?? string.Empty;

    /// <summary>Whether <paramref name="ancestor"/> is reached by following parents from <paramref name="span"/> within the trace.</summary>
    private static bool DescendsFrom(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        var bySpanId = trace.ToDictionary(s => s.SpanId);
        for (var parent = span.ParentSpanId; parent != default; parent = bySpanId.TryGetValue(parent, out var next) ? next.ParentSpanId : default)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>OTLP protobuf carries strings as UTF-8: the webhook's route is in the export of its span.</summary>
    private static bool HasWebhookSpan(FakeOtlpReceiver.Export export) =>
        export.Body.AsSpan().IndexOf("/calls/notificationWebhook"u8) >= 0;
}
