package hello;

/** A command line or environment setting that makes no sense; the program exits with status 2. */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message);
  }
}
