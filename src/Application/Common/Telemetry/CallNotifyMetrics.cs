using System.Diagnostics.Metrics;
using CallNotify.Domain.Common;
using CallNotify.Domain.Notifications;

namespace CallNotify.Application.Common.Telemetry;

/// <summary>
/// The service's own instruments (meter <c>CallNotify</c>), exported at <c>/metrics</c>. Names follow OpenTelemetry;
/// the Prometheus exporter turns <c>callnotify.webhook.requests</c> into <c>callnotify_webhook_requests_total</c>.
/// </summary>
public sealed class CallNotifyMetrics
{
    public const string MeterName = "CallNotify";

    /// <summary>Spans of the service's own work (one per delivery attempt), under the same name as the meter.</summary>
    public static readonly System.Diagnostics.ActivitySource Tracing = new(MeterName);

    private readonly Counter<long> _webhookRequests;
    private readonly Histogram<double> _webhookDuration;
    private readonly Counter<long> _deliveries;
    private readonly Histogram<double> _deliveryDuration;
    private readonly UpDownCounter<long> _retrying;
    private readonly Counter<long> _deactivated;
    private readonly Counter<long> _receipts;

    private readonly RecentActivity? _recent;

    public CallNotifyMetrics(IMeterFactory meters, RecentActivity? recent = null)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _recent = recent;
        Meter = meters.Create(MeterName);
        _webhookRequests = Meter.CreateCounter<long>("callnotify.webhook.requests", "{request}", "Webhook requests, by HTTP status code.");
        _webhookDuration = Meter.CreateHistogram<double>("callnotify.webhook.duration", "s", "Time to answer a webhook, by HTTP status code.");
        _deliveries = Meter.CreateCounter<long>("callnotify.deliveries", "{attempt}", "Delivery attempts, by channel and outcome (accepted, retry, client-gone, failed, expired).");
        _deliveryDuration = Meter.CreateHistogram<double>("callnotify.delivery.duration", "s", "Time one delivery attempt took, by channel.");
        _retrying = Meter.CreateUpDownCounter<long>("callnotify.deliveries.retrying", "{delivery}", "Deliveries waiting for their next attempt on this instance.");
        _receipts = Meter.CreateCounter<long>("callnotify.receipts", "{receipt}", "Receipts from push clients (POST /v1/receipts) that acknowledged a delivery, by channel.");
        _deactivated = Meter.CreateCounter<long>("callnotify.bindings.deactivated", "{binding}", "Bindings deactivated because the provider said the token is gone, by reason.");
    }

    /// <summary>The meter, for instruments that live with their data (e.g. live sessions).</summary>
    public Meter Meter { get; }

    public void WebhookAnswered(int statusCode, TimeSpan elapsed)
    {
        var status = new KeyValuePair<string, object?>("status", statusCode);
        _webhookRequests.Add(1, status);
        _webhookDuration.Record(elapsed.TotalSeconds, status);
        _recent?.Webhook(statusCode);
    }

    public void DeliveryAttempted(ChannelKind channel, DeliveryResultKind result, TimeSpan elapsed)
    {
        var outcome = result switch
        {
            DeliveryResultKind.Accepted => "accepted",
            DeliveryResultKind.Retry => "retry",
            DeliveryResultKind.ClientGone => "client-gone",
            _ => "failed",
        };
        _deliveries.Add(1, new("channel", channel.ToWire()), new("outcome", outcome));
        _recent?.Delivery(channel, outcome);
        _deliveryDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("channel", channel.ToWire()));
    }

    public void DeliveryExpired(ChannelKind channel)
    {
        _deliveries.Add(1, new("channel", channel.ToWire()), new("outcome", "expired"));
        _recent?.Delivery(channel, "expired");
    }

    public void RetryWaiting(int change) => _retrying.Add(change);

    public void ReceiptRecorded(ChannelKind channel) => _receipts.Add(1, new KeyValuePair<string, object?>("channel", channel.ToWire()));

    public void BindingDeactivated(string reason) => _deactivated.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
