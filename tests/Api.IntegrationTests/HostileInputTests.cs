using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;
using CallNotify.Application.Bindings.RegisterBinding;
using CallNotify.Application.Calls.ReceiveCallNotification;

namespace CallNotify.Api.IntegrationTests;

/// <summary>
/// Issue #5, over HTTP: generated hostile input (FsCheck generators in <see cref="HostileInput"/>) sent to the admin
/// API, the webhook (unsigned, and correctly signed) and the WebSocket upgrade of a running service on PostgreSQL.
/// Nothing gets a 5xx (the store is up, so not even 503); every answer is the one SPEC §3/§5/§8 gives; and afterwards
/// the service still answers <c>/healthz</c> and serves a valid request. A failure names the seed
/// (<c>CALLNOTIFY_FUZZ_SEED</c> replays it) and the cases that got a wrong answer.
/// </summary>
[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class HostileInputTests(StoreKind store) : ApiFixture(store)
{
    private const int Cases = 150;
    private const int MaxWebhookBody = 64 * 1024;

    /// <summary>Generous limits: the per-IP rate limits would otherwise answer the fuzzing with 429s.</summary>
    protected override IDictionary<string, string?>? Settings => new Dictionary<string, string?>
    {
        ["RateLimits:AdminPermitsPerMinute"] = "1000000",
        ["RateLimits:WebSocketUpgradesPerMinute"] = "1000000",
        ["RateLimits:FailedSignaturesPerMinute"] = "1000000",
        ["RateLimits:FailedAdminAuthPerMinute"] = "1000000",
    };

    [Test]
    public async Task BindingRegistrationsWithHostileBodiesAreAnsweredAsTheValidatorSaysAndNeverWith5xx()
    {
        var seed = HostileInput.Seed();
        var wrong = new List<string>();
        var validator = new RegisterBindingValidator();
        var answers = new HashSet<HttpStatusCode>();
        foreach (var (@case, index) in HostileInput.Sample(HostileInput.Registrations, Cases, seed).Select((c, i) => (c, i)))
        {
            var expected = ExpectedForRegistration(@case.Bytes, validator);
            using var content = Content(@case.Bytes);
            using var response = await Admin.PostAsync("/admin/v1/bindings", content);
            answers.Add(response.StatusCode);
            if (!expected.Contains(response.StatusCode))
            {
                wrong.Add($"#{index} {@case}: {(int)response.StatusCode}, expected {string.Join(" or ", expected.Select(s => (int)s))}");
            }
            else if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                // What was stored reads back as it was sent.
                var created = await response.Content.ReadFromJsonAsync<JsonElement>();
                var reread = await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/bindings/" + created.GetProperty("id").GetString());
                var sent = JsonDocument.Parse(@case.Bytes).RootElement;
                if (reread.GetProperty("identity").GetString() != sent.GetProperty("identity").GetString())
                {
                    wrong.Add($"#{index} {@case}: the identity read back differs");
                }
            }
        }

        foreach (var (@case, index) in HostileInput.Sample(HostileInput.GarbageBodies(2 * 1024 * 1024), Cases, seed + 1).Select((c, i) => (c, i)))
        {
            using var content = Content(@case.Bytes, index);
            var contentType = content.Headers.ContentType?.ToString() ?? "no content type";
            using var response = await Admin.PostAsync("/admin/v1/bindings", content);
            answers.Add(response.StatusCode);
            if (response.StatusCode is not (HttpStatusCode.BadRequest or HttpStatusCode.UnsupportedMediaType))
            {
                wrong.Add($"#{index} garbage {@case} ({contentType}): {(int)response.StatusCode}, expected 400 or 415");
            }
        }

        Report(seed, wrong);
        Assert.That(answers, Is.SupersetOf(new[] { HttpStatusCode.Created, HttpStatusCode.BadRequest }), "the generated registrations should be valid now and then");
        await AssertStillServingAsync();
    }

    [Test]
    public async Task AdminQueryStringsAndPathSegmentsNeverGet5xx()
    {
        var seed = HostileInput.Seed();
        var wrong = new List<string>();
        await RegisterAsync(identity: "bob");
        var queries = HostileInput.Sample(HostileInput.QueryStrings, Cases, seed);
        var segments = HostileInput.Sample(HostileInput.UrlText, Cases, seed + 1);
        for (var i = 0; i < Cases; i++)
        {
            var requests = new (HttpMethod Method, string Url)[]
            {
                (HttpMethod.Get, "/admin/v1/bindings?" + queries[i]),
                (HttpMethod.Delete, "/admin/v1/bindings?" + queries[i]),
                (HttpMethod.Get, "/admin/v1/notifications?" + queries[i]),
                (HttpMethod.Get, "/admin/v1/bindings/" + segments[i]),
                (HttpMethod.Delete, "/admin/v1/bindings/" + segments[i]),
                (HttpMethod.Get, "/admin/v1/notifications/" + segments[i] + "?" + queries[i]),
                (HttpMethod.Get, $"/admin/v1/notifications/{segments[i]}?accountSid={CallNotifyApp.AccountSid}"),
            };
            foreach (var (method, url) in requests)
            {
                using var request = new HttpRequestMessage(method, url);
                using var response = await Admin.SendAsync(request);
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.NoContent or HttpStatusCode.BadRequest or HttpStatusCode.NotFound
                    or HttpStatusCode.RequestUriTooLong or HttpStatusCode.RequestHeaderFieldsTooLarge))
                {
                    wrong.Add($"#{i} {method} {Shorten(url)}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }

        Report(seed, wrong);
        await AssertStillServingAsync();
    }

    [Test]
    public async Task UnsignedHostileWebhooksGet403Or413()
    {
        var seed = HostileInput.Seed();
        var wrong = new List<string>();
        var signatures = HostileInput.Sample(HostileInput.HeaderValues, Cases, seed + 1);
        foreach (var (@case, index) in HostileInput.Sample(HostileInput.WebhookBodies, Cases, seed).Select((c, i) => (c, i)))
        {
            using var request = TwilioRequests.SignedRequest(App.BaseAddress, @case.Bytes);
            request.Headers.Remove("X-Twilio-Signature");
            if (index % 3 != 0)
            {
                request.Headers.TryAddWithoutValidation("X-Twilio-Signature", signatures[index]);
            }

            using var response = await Anonymous.SendAsync(request);
            var expected = @case.Bytes.Length > MaxWebhookBody ? HttpStatusCode.RequestEntityTooLarge : HttpStatusCode.Forbidden;

            // Kestrel refuses headers over its limit (32 KiB in all) before the service sees them.
            if (response.StatusCode != expected && !(index % 3 != 0 && signatures[index].Length > 32 * 1024 && response.StatusCode == HttpStatusCode.RequestHeaderFieldsTooLarge))
            {
                wrong.Add($"#{index} {@case}, signature {Shorten(signatures[index])}: {(int)response.StatusCode}, expected {(int)expected}");
            }
        }

        Report(seed, wrong);
        await AssertStillServingAsync();
    }

    /// <summary>
    /// Signed as Twilio signs, so only the body is judged: garbage gets 400 (413 over 64 KiB), a notification naming
    /// another account 403, one for bob (connected) 200, anyone else 404, and a repeated message id its first answer.
    /// </summary>
    [Test]
    public async Task SignedHostileWebhooksGet400Or413AndWellFormedOnesAreRouted()
    {
        var seed = HostileInput.Seed();
        var wrong = new List<string>();
        using var bob = await ConnectAsync("bob");
        using var stop = new CancellationTokenSource();
        var drain = DrainAsync(bob, stop.Token);
        var delivered = new HashSet<string>(StringComparer.Ordinal);
        var answers = new Dictionary<HttpStatusCode, int>();
        foreach (var (@case, index) in HostileInput.Sample(HostileInput.WebhookBodies, Cases, seed).Select((c, i) => (c, i)))
        {
            var expected = ExpectedForSignedWebhook(@case.Bytes, delivered);
            using var request = TwilioRequests.SignedRequest(App.BaseAddress, @case.Bytes);
            using var response = await Anonymous.SendAsync(request);
            answers[response.StatusCode] = answers.GetValueOrDefault(response.StatusCode) + 1;
            if (response.StatusCode != expected)
            {
                wrong.Add($"#{index} {@case}: {(int)response.StatusCode}, expected {(int)expected} {await response.Content.ReadAsStringAsync()}");
            }
            else if (expected == HttpStatusCode.OK && WebhookBody.TryParse(@case.Bytes, out var body, out _))
            {
                delivered.Add(body!.MessageId);
            }
        }

        await stop.CancelAsync();
        await drain;
        Report(seed, wrong);

        // The generated cases reach every answer (a few 403s come too, but too few to count on in one run).
        Assert.That(
            answers.Keys,
            Is.SupersetOf(new[] { HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.RequestEntityTooLarge }),
            "answers given: " + string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{(int)a.Key} × {a.Value}")));
        await AssertStillServingAsync();
    }

    [Test]
    public async Task WebSocketUpgradesWithHostileTokensGet401()
    {
        var seed = HostileInput.Seed();
        var wrong = new List<string>();
        var headers = HostileInput.Sample(HostileInput.HeaderValues, Cases, seed + 1);
        foreach (var (token, index) in HostileInput.Sample(HostileInput.Tokens, Cases, seed).Select((t, i) => (t, i)))
        {
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            if (index % 2 == 1)
            {
                socket.Options.SetRequestHeader("Authorization", "Bearer " + headers[index]);
            }

            var uri = new Uri(new UriBuilder(App.BaseAddress) { Scheme = "ws" }.Uri, index % 2 == 1 ? "/v1/websocket" : "/v1/websocket?token=" + token);
            try
            {
                await socket.ConnectAsync(uri, CancellationToken.None);
                wrong.Add($"#{index} {Shorten(index % 2 == 1 ? headers[index] : token)}: the upgrade was accepted");
            }
            catch (WebSocketException) when (socket.HttpStatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest or HttpStatusCode.RequestUriTooLong or HttpStatusCode.RequestHeaderFieldsTooLarge)
            {
                // Refused, as it must be (400/414/431 are Kestrel's answers to a request it cannot read).
            }
            catch (WebSocketException)
            {
                wrong.Add($"#{index} {Shorten(index % 2 == 1 ? headers[index] : token)}: {(int)socket.HttpStatusCode}, expected 401");
            }
        }

        Report(seed, wrong);
        await AssertStillServingAsync();
    }

    // ---------------------------------------------------------------- expectations

    /// <summary>
    /// The answer to a registration: 400 unless the body is a JSON object whose fields are strings (or null) the
    /// validator accepts, in which case 201 (or 200 when the same channel and address came before).
    /// </summary>
    private static HttpStatusCode[] ExpectedForRegistration(byte[] json, RegisterBindingValidator validator)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            string? Field(string name)
            {
                if (!document.RootElement.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
                {
                    return null;
                }

                return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new JsonException(name + " is not a string");
            }

            var command = new RegisterBindingCommand(Field("accountSid"), Field("identity"), Field("channel"), Field("address"), Field("environment"), Field("appId"));
            return validator.Validate(command).IsValid ? [HttpStatusCode.Created, HttpStatusCode.OK] : [HttpStatusCode.BadRequest];
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return [HttpStatusCode.BadRequest];
        }
    }

    private static HttpStatusCode ExpectedForSignedWebhook(byte[] body, HashSet<string> delivered)
    {
        if (body.Length > MaxWebhookBody)
        {
            return HttpStatusCode.RequestEntityTooLarge;
        }

        if (!WebhookBody.TryParse(body, out var parsed, out _))
        {
            return HttpStatusCode.BadRequest;
        }

        if (parsed!.AccountSid.Value != CallNotifyApp.AccountSid)
        {
            return HttpStatusCode.Forbidden;
        }

        return parsed.Identity.Value == "bob" || delivered.Contains(parsed.MessageId) ? HttpStatusCode.OK : HttpStatusCode.NotFound;
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>The body as JSON, or now and then under another content type (garbage bodies only).</summary>
    private static ByteArrayContent Content(byte[] body, int index = 0)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = (index % 10) switch
        {
            7 => new MediaTypeHeaderValue("text/plain"),
            8 => null,
            9 => MediaTypeHeaderValue.Parse("application/json; charset=utf-16"),
            _ => new MediaTypeHeaderValue("application/json"),
        };
        return content;
    }

    private static async Task DrainAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[128 * 1024];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                await socket.ReceiveAsync(buffer, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
    }

    /// <summary>The service still answers /healthz, registers a binding and delivers a valid notification.</summary>
    private async Task AssertStillServingAsync()
    {
        using var health = await Anonymous.GetAsync("/healthz");
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await RegisterAsync(identity: "carol");
        using var carol = await ConnectAsync("carol");
        var body = TwilioRequests.Body(to: "client:carol");
        using var response = await PostWebhookAsync(body);
        var frame = await ReceiveFrameAsync(carol, TimeSpan.FromSeconds(5));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(frame, Is.EqualTo(Encoding.UTF8.GetBytes(body)));
        }
    }

    private static void Report(ulong seed, List<string> wrong) =>
        Assert.That(
            wrong,
            Is.Empty,
            $"{wrong.Count} wrong answers (replay with {HostileInput.SeedVariable}={seed}):\n" + string.Join("\n", wrong.Take(20)));

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + $"…({text.Length} chars)" : text;
}
