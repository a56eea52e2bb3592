using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CallNotify.Infrastructure.Persistence.Migrations.Postgres
{
    /// <summary>
    /// ADR 0030: the webhook's writes no longer check foreign keys. The two constraints a notification's rows carried
    /// (deliveries → call_notifications, delivery_events → deliveries) cost a referential check, a row lock and its WAL
    /// on every delivery and event inserted; the statements that insert them already guarantee the parent exists. The
    /// cascade on delete stays, done by a statement trigger on call_notifications. The EF Core model still declares
    /// both relationships (it maps the navigations by them), so the model snapshot is unchanged.
    /// </summary>
    public partial class HotPathWithoutForeignKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_delivery_events_deliveries_delivery_id",
                table: "delivery_events");

            migrationBuilder.DropForeignKey(
                name: "fk_deliveries_call_notifications_notification_id",
                table: "deliveries");

            migrationBuilder.Sql("""
                CREATE FUNCTION call_notifications_delete_rows() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    DELETE FROM delivery_events e USING deliveries d, deleted_notifications n
                    WHERE e.delivery_id = d.id AND d.notification_id = n.id;
                    DELETE FROM deliveries d USING deleted_notifications n WHERE d.notification_id = n.id;
                    RETURN NULL;
                END
                $$;

                CREATE TRIGGER call_notifications_delete_rows
                AFTER DELETE ON call_notifications
                REFERENCING OLD TABLE AS deleted_notifications
                FOR EACH STATEMENT EXECUTE FUNCTION call_notifications_delete_rows();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER call_notifications_delete_rows ON call_notifications;
                DROP FUNCTION call_notifications_delete_rows();
                DELETE FROM delivery_events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = e.delivery_id);
                DELETE FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM call_notifications n WHERE n.id = d.notification_id);
                """);

            migrationBuilder.AddForeignKey(
                name: "fk_deliveries_call_notifications_notification_id",
                table: "deliveries",
                column: "notification_id",
                principalTable: "call_notifications",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "fk_delivery_events_deliveries_delivery_id",
                table: "delivery_events",
                column: "delivery_id",
                principalTable: "deliveries",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
