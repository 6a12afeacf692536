// Creates a topic on the broker at args[0] and exits 0, or exits 1 if the broker cannot yet do so.
// The stack's Kafka counts as ready only when this succeeds: its port opens seconds earlier.
// Run as a single-file program (`java -cp 'libs/*' CreateTopic.java HOST:PORT TOPIC`), so the jar
// set stays the broker's own (kafka-tools would pull Kafka Connect and Jetty onto the classpath).
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

public class CreateTopic {
  public static void main(String[] args) throws Exception {
    Map<String, Object> config = Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
    try (Admin admin = Admin.create(config)) {
      admin.createTopics(List.of(new NewTopic(args[1], 1, (short) 1))).all().get(15, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        System.err.println(e.getCause());
        System.exit(1);
      }
    }
  }
}
