using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CallNotify.Api.IntegrationTests.Support;

namespace CallNotify.Api.IntegrationTests;

[TestFixture(StoreKind.Postgres)]
[TestFixture(StoreKind.Sqlite)]
public sealed class BindingsAdminTests(StoreKind store) : ApiFixture(store)
{
    [Test]
    public async Task Returns401WithoutAnAdminKey()
    {
        using var response = await Anonymous.GetAsync("/admin/v1/bindings");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        }
    }

    [Test]
    public async Task Returns401ForAWrongAdminKey()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/bindings")
        {
            Content = JsonContent.Create(new { accountSid = CallNotifyApp.AccountSid, identity = "bob", channel = "fcm", address = "x" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CallNotifyApp.AdminKey + "x");

        using var response = await Anonymous.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task RegisteringANewBindingAnswers201WithLocation()
    {
        using var response = await Admin.PostAsJsonAsync("/admin/v1/bindings", new
        {
            accountSid = CallNotifyApp.AccountSid,
            identity = "bob",
            channel = "apns-voip",
            address = "ABCDEF0123456789",
            environment = "sandbox",
            appId = "com.example.app",
        });
        var binding = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(response.Headers.Location?.ToString(), Is.EqualTo("/admin/v1/bindings/" + binding.GetProperty("id").GetString()));
            Assert.That(binding.GetProperty("id").GetString(), Does.StartWith("BD"));
            Assert.That(binding.GetProperty("address").GetString(), Is.EqualTo("abcdef0123456789"));
            Assert.That(binding.GetProperty("environment").GetString(), Is.EqualTo("sandbox"));
            Assert.That(binding.GetProperty("appId").GetString(), Is.EqualTo("com.example.app"));
            Assert.That(binding.GetProperty("status").GetString(), Is.EqualTo("active"));
            Assert.That(binding.GetProperty("inactiveReason").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(binding.GetProperty("lastDeliveryAt").ValueKind, Is.EqualTo(JsonValueKind.Null));
        }
    }

    [Test]
    public async Task RegisteringTheSameAddressAgainMovesItToTheLatestIdentityAndAnswers200()
    {
        var first = await RegisterAsync(identity: "alice", address: "shared-device-token");

        using var response = await Admin.PostAsJsonAsync("/admin/v1/bindings", new
        {
            accountSid = CallNotifyApp.OtherAccountSid,
            identity = "bob",
            channel = "fcm",
            address = "shared-device-token",
        });
        var second = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(second.GetProperty("id").GetString(), Is.EqualTo(first.GetProperty("id").GetString()));
            Assert.That(second.GetProperty("identity").GetString(), Is.EqualTo("bob"));
            Assert.That(second.GetProperty("accountSid").GetString(), Is.EqualTo(CallNotifyApp.OtherAccountSid));
            Assert.That(second.GetProperty("expiresAt").GetDateTimeOffset(), Is.GreaterThanOrEqualTo(first.GetProperty("expiresAt").GetDateTimeOffset()));
        }

        var all = await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/bindings");
        Assert.That(all.GetProperty("bindings").GetArrayLength(), Is.EqualTo(1));
    }

    [Test]
    public async Task TheSameTokenOnAnotherChannelIsAnotherBinding()
    {
        var fcm = await RegisterAsync(channel: "fcm", address: "abcdef");
        var apns = await RegisterAsync(channel: "apns", address: "abcdef");

        Assert.That(apns.GetProperty("id").GetString(), Is.Not.EqualTo(fcm.GetProperty("id").GetString()));
    }

    [TestCase("channel", "\"sms\"")]
    [TestCase("accountSid", "\"AC123\"")]
    [TestCase("identity", "\"\"")]
    [TestCase("environment", "\"staging\"")]
    public async Task Returns400NamingTheInvalidField(string field, string json)
    {
        var body = new Dictionary<string, object?>
        {
            ["accountSid"] = CallNotifyApp.AccountSid,
            ["identity"] = "bob",
            ["channel"] = "apns",
            ["address"] = "abcdef",
        };
        body[field] = JsonSerializer.Deserialize<JsonElement>(json);

        using var response = await Admin.PostAsJsonAsync("/admin/v1/bindings", body);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(problem.GetProperty("errors").TryGetProperty(field, out _), Is.True, problem.ToString());
        }
    }

    [Test]
    public async Task Returns400ForAnOverlongAddressOrIdentity()
    {
        using var longAddress = await Admin.PostAsJsonAsync("/admin/v1/bindings", new
        {
            accountSid = CallNotifyApp.AccountSid,
            identity = "bob",
            channel = "fcm",
            address = new string('a', 4097),
        });
        using var longIdentity = await Admin.PostAsJsonAsync("/admin/v1/bindings", new
        {
            accountSid = CallNotifyApp.AccountSid,
            identity = new string('b', 257),
            channel = "fcm",
            address = "token",
        });
        using var maxAddress = await Admin.PostAsJsonAsync("/admin/v1/bindings", new
        {
            accountSid = CallNotifyApp.AccountSid,
            identity = new string('b', 256),
            channel = "fcm",
            address = new string('a', 4096),
        });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(longAddress.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(longIdentity.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(maxAddress.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }
    }

    /// <summary>Found by HostileInputTests: an APNs app id holding U+0000 failed the PostgreSQL insert (answered 503).</summary>
    [TestCase("apns")]
    [TestCase("apns-voip")]
    public async Task Returns400ForAnAppIdWithAControlCharacter(string channel)
    {
        using var response = await Admin.PostAsJsonAsync("/admin/v1/bindings", new
        {
            accountSid = CallNotifyApp.AccountSid,
            identity = "bob",
            channel,
            address = "abcdef",
            appId = "com.example\u0000app",
        });
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").TryGetProperty("appId", out _), Is.True, problem.ToString());
        }
    }

    [Test]
    public async Task Returns400ForABodyThatIsNotJson()
    {
        using var content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");

        using var response = await Admin.PostAsync("/admin/v1/bindings", content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task ListsEveryBindingOnceAcrossPagesInAStableOrder()
    {
        var registered = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            registered.Add((await RegisterAsync(identity: "bob")).GetProperty("id").GetString()!);
        }

        await RegisterAsync(identity: "alice");
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var url = $"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity=bob&pageSize=2" + (token is null ? string.Empty : "&pageToken=" + token);
            var page = await Admin.GetFromJsonAsync<JsonElement>(url);
            seen.AddRange(page.GetProperty("bindings").EnumerateArray().Select(b => b.GetProperty("id").GetString()!));
            token = page.GetProperty("nextPageToken").GetString();
            pages++;
        }
        while (token is not null && pages < 10);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(pages, Is.EqualTo(3));
            Assert.That(seen, Is.EqualTo(registered.Order(StringComparer.Ordinal).ToList()));
        }
    }

    [Test]
    public async Task FiltersByChannelAndStatus()
    {
        await RegisterAsync(channel: "fcm");
        await RegisterAsync(channel: "apns");

        var fcm = await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/bindings?channel=fcm");
        var inactive = await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/bindings?status=inactive");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(fcm.GetProperty("bindings").GetArrayLength(), Is.EqualTo(1));
            Assert.That(inactive.GetProperty("bindings").GetArrayLength(), Is.Zero);
        }
    }

    [TestCase("pageSize=0")]
    [TestCase("pageSize=201")]
    [TestCase("pageToken=garbage")]
    [TestCase("channel=sms")]
    [TestCase("accountSid=AC1")]
    public async Task Returns400ForBadListParameters(string query)
    {
        using var response = await Admin.GetAsync("/admin/v1/bindings?" + query);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task GetsAndDeletesOneBinding()
    {
        var id = (await RegisterAsync()).GetProperty("id").GetString();

        using var get = await Admin.GetAsync($"/admin/v1/bindings/{id}");
        using var delete = await Admin.DeleteAsync($"/admin/v1/bindings/{id}");
        using var again = await Admin.DeleteAsync($"/admin/v1/bindings/{id}");
        using var gone = await Admin.GetAsync($"/admin/v1/bindings/{id}");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(gone.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }
    }

    [Test]
    public async Task SignOutEverywhereDeletesEveryBindingOfTheIdentityOnly()
    {
        await RegisterAsync(identity: "bob");
        await RegisterAsync(identity: "bob", channel: "apns");
        await RegisterAsync(identity: "alice");

        using var response = await Admin.DeleteAsync($"/admin/v1/bindings?accountSid={CallNotifyApp.AccountSid}&identity=bob");
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        var left = await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/bindings");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(result.GetProperty("deleted").GetInt32(), Is.EqualTo(2));
            Assert.That(left.GetProperty("bindings").GetArrayLength(), Is.EqualTo(1));
        }
    }

    [Test]
    public async Task KeepsAtMostTheConfiguredNumberOfActiveBindingsPerIdentity()
    {
        // Bindings:MaxPerIdentity is 20 by default.
        var ids = new List<string>();
        for (var i = 0; i < 21; i++)
        {
            ids.Add((await RegisterAsync(identity: "bob")).GetProperty("id").GetString()!);
        }

        var oldest = await Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/bindings/{ids[0]}");
        var active = await Admin.GetFromJsonAsync<JsonElement>("/admin/v1/bindings?status=active&pageSize=200");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(oldest.GetProperty("status").GetString(), Is.EqualTo("inactive"));
            Assert.That(oldest.GetProperty("inactiveReason").GetString(), Is.EqualTo("superseded"));
            Assert.That(active.GetProperty("bindings").GetArrayLength(), Is.EqualTo(20));
        }
    }
}
