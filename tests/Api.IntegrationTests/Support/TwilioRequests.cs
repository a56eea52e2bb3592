using CallNotify.Infrastructure.Twilio;
using System.Text;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>Builds webhook requests signed exactly as Twilio signs them.</summary>
public static class TwilioRequests
{
    public static string Body(
        string to = "client:bob",
        string accountSid = CallNotifyApp.AccountSid,
        string? messageId = null,
        string from = "client:alice") =>
        "{\"twi_account_sid\":\"" + accountSid + "\"," +
        "\"twi_bridge_token\":\"eyJhbGciOiJIUzI1NiJ9.eyJ0ZXN0Ijp0cnVlfQ.c2lnbmF0dXJl\"," +
        "\"twi_call_sid\":\"CA" + Guid.NewGuid().ToString("N") + "\"," +
        "\"twi_from\":\"" + from + "\"," +
        "\"twi_message_id\":\"" + (messageId ?? NewMessageId()) + "\"," +
        "\"twi_message_type\":\"twilio.voice.call\"," +
        "\"twi_to\":\"" + to + "\"," +
        "\"twi_params\":\"k=v&k2=v%202\"}";

    public static string NewMessageId() => "WB" + Guid.NewGuid().ToString("N");

    /// <summary>A POST of <paramref name="body"/> to the webhook, with <c>bodySHA256</c> in the query and the URL signed.</summary>
    public static HttpRequestMessage SignedRequest(Uri baseAddress, byte[] body, string authToken = CallNotifyApp.AuthToken, string? signedUrl = null)
    {
        var url = WebhookUrl(baseAddress, body);
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Twilio-Signature", Sign(authToken, signedUrl ?? url));
        return request;
    }

    public static HttpRequestMessage SignedRequest(Uri baseAddress, string body, string authToken = CallNotifyApp.AuthToken) =>
        SignedRequest(baseAddress, Encoding.UTF8.GetBytes(body), authToken);

    public static string WebhookUrl(Uri baseAddress, byte[] body) =>
        TwilioSignature.WithBodyHash(new Uri(baseAddress, "/calls/notificationWebhook").ToString(), body);

    public static string Sign(string authToken, string url) => TwilioSignature.Sign(authToken, url);
}
