import featurecat.lizzie.Lizzie;
import featurecat.lizzie.analysis.MoveData;
import java.util.ArrayList;
import java.util.List;

/**
 * Lizzie itself (Debian's liblizzie-java, its own main and window, on a virtual display) driving the engine its
 * config file names; prints what Lizzie understood of the engine's analysis (tests/test_lizzie.py reads it).
 *
 *   java -cp /usr/share/java/lizzie.jar:DIR LizzieProbe SECONDS [MOVE ...]
 *
 * Waits for Lizzie's best moves on the empty board, then places each MOVE through Lizzie's board (Lizzie sends
 * `play` and analyses again) and waits for best moves of the new position. Per position:
 *   POSITION <moves placed> kata=<Lizzie took it for KataGo> pondering=<bool> winrate=<board's winrate>
 *   MOVE <coordinate> <playouts> <winrate> <policy> <principal variation, space separated>
 * then DONE, or TIMEOUT if a position got no best moves in time.
 */
public class LizzieProbe {
  static volatile int placed = 0;

  public static void main(String[] args) throws Exception {
    long end = System.currentTimeMillis() + (long) (Double.parseDouble(args[0]) * 1000);
    // The deadline holds even if this thread blocks inside Lizzie: its engine reader shows dialogs while it holds
    // the Leelaz lock that getBestMoves() takes.
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(Math.max(0, end - System.currentTimeMillis()) + 2000);
      } catch (InterruptedException e) {
        return;
      }
      System.out.println("TIMEOUT " + placed);
      System.out.flush();
      Runtime.getRuntime().halt(0);
    });
    watchdog.setDaemon(true);
    watchdog.start();
    // Lizzie's main on its own thread: with some engines it does not return (it waits on the engine), and the
    // deadline below must hold whatever Lizzie does
    Thread lizzie = new Thread(() -> {
      try {
        Lizzie.main(new String[0]);
      } catch (Exception e) {
        e.printStackTrace();
      }
    });
    lizzie.setDaemon(true);
    lizzie.start();
    while (true) {
      List<MoveData> best = waitForBest(end, placed);
      if (best == null) {
        System.out.println("TIMEOUT " + placed);
        break;
      }
      System.out.println("POSITION " + placed + " kata=" + Lizzie.leelaz.isKataGo + " pondering="
          + Lizzie.leelaz.isPondering() + " winrate=" + Lizzie.board.getData().winrate);
      for (MoveData m : best) {
        System.out.println("MOVE " + m.coordinate + " " + m.playouts + " " + m.winrate + " " + m.policy + " "
            + String.join(" ", m.variation));
      }
      if (placed + 1 >= args.length) {
        System.out.println("DONE");
        break;
      }
      Lizzie.board.place(args[placed + 1]);
      placed++;
    }
    System.out.flush();
    // Not Lizzie's own quit: after a timeout its reader thread may sit in a modal dialog, and quit would wait for
    // it. The engine sees its stdin close when this process ends, and quits.
    Runtime.getRuntime().halt(0);
  }

  /** Best moves Lizzie holds for the position after `placed` moves (with visits), or null at the deadline. */
  static List<MoveData> waitForBest(long end, int placed) throws InterruptedException {
    while (System.currentTimeMillis() < end) {
      if (Lizzie.leelaz != null && Lizzie.board != null && Lizzie.board.getData().moveNumber == placed) {
        List<MoveData> best = new ArrayList<>(Lizzie.leelaz.getBestMoves());
        if (!best.isEmpty() && MoveData.getPlayouts(best) > 0) {
          Thread.sleep(1500);  // let a few more updates arrive, then take the latest
          return new ArrayList<>(Lizzie.leelaz.getBestMoves());
        }
      }
      Thread.sleep(200);
    }
    return null;
  }
}
